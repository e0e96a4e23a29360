/* The township status page (township-hub serve). Reads /api/status of the
 * same server (what `township-hub status --format json` prints) and
 * /api/cases (the open cases, as `township-hub cases --format json` lists
 * them) and draws them, overdue cases first; refreshes every 30 s. The language is in the URL (?lang=zh|en). */
'use strict';

(function () {
  const I18N = {
    zh: {
      title: '乡镇调访办', queue_depth: '待转发（件）', forward_lag: '最早未转发已等待',
      county_contact: '上次联系县中心', events: '收到（件）', forwarded: '已转发（件）',
      quarantined: '隔离（件）', stations: '村站', col_station: '村站', col_status: '状态',
      col_last_contact: '最后联系', col_silent_for: '未联系时长', col_reports: '报告',
      col_quarantined: '隔离', col_backlog: '积压',
      cases: '在办案件', open_n: '在办', overdue_n: '超期', col_case: '案件',
      col_reported_by: '报告村站', col_outcome: '状态', col_assignee: '交办给', col_due: '限期',
      col_days_left: '剩余天数', col_conflict: '冲突', no_cases: '没有在办案件',
      conflict: '有冲突', overdue: '超期',
      outcomes: { pending: '待处理', accepted: '已受理' },
      ok: '正常', silent: '失联', never: '从未', none: '还没有村站连接过', ago: '前',
      loading: '正在读取…', loaded: '已更新', failed: '读取失败：',
      d: '天', h: '小时', min: '分', s: '秒',
    },
    en: {
      title: 'Township mediation office', queue_depth: 'Waiting to forward',
      forward_lag: 'Oldest unforwarded, waiting', county_contact: 'Last county contact',
      events: 'Received', forwarded: 'Forwarded', quarantined: 'Quarantined',
      stations: 'Village stations', col_station: 'Station', col_status: 'Status',
      col_last_contact: 'Last contact', col_silent_for: 'Silent for', col_reports: 'Reports',
      col_quarantined: 'Quarantined', col_backlog: 'Backlog',
      cases: 'Open cases', open_n: 'open', overdue_n: 'overdue', col_case: 'Case',
      col_reported_by: 'Reported by', col_outcome: 'Outcome', col_assignee: 'Assigned to',
      col_due: 'Due', col_days_left: 'Days left', col_conflict: 'Conflict',
      no_cases: 'No open cases', conflict: 'conflict', overdue: 'overdue',
      outcomes: { pending: 'pending', accepted: 'accepted' },
      ok: 'ok', silent: 'SILENT', never: 'never', none: 'No station has connected yet',
      ago: ' ago', loading: 'Loading…', loaded: 'Updated', failed: 'Could not load: ',
      d: ' d ', h: ' h ', min: ' min', s: ' s',
    },
  };
  const REFRESH_MS = 30000;
  const params = new URLSearchParams(window.location.search);
  const state = {
    lang: params.get('lang') === 'en' ? 'en' : 'zh',
    token: params.get('token') || '',
    silentAfter: params.get('silent_after') || '',
    data: null,
    cases: null,
  };
  const $ = (id) => document.getElementById(id);
  const t = (key) => I18N[state.lang][key];
  const locale = () => (state.lang === 'zh' ? 'zh-CN' : 'en-GB');

  function duration(s) {
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d > 0) {
      return d + t('d') + h + t('h').trim();
    }
    if (h > 0) {
      return h + t('h') + m + t('min');
    }
    return m > 0 ? m + t('min') : s + t('s');
  }

  function setCard(id, value, text, late) {
    const el = $(id);
    el.dataset.value = String(value);
    el.textContent = text;
    el.classList.toggle('late', Boolean(late));
  }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) {
      td.className = cls;
    }
    tr.appendChild(td);
  }

  function renderLabels() {
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    for (const el of document.querySelectorAll('[data-i18n]')) {
      el.textContent = t(el.dataset.i18n);
    }
    for (const b of document.querySelectorAll('nav.lang button')) {
      b.setAttribute('aria-pressed', String(b.dataset.lang === state.lang));
    }
  }

  function render() {
    renderLabels();
    const s = state.data;
    if (!s) {
      return;
    }
    document.title = t('title') + ' ' + s.township;
    $('township').textContent = s.township;
    const num = (n) => Number(n).toLocaleString(locale());
    setCard('queue-depth', s.queue_depth, num(s.queue_depth), s.queue_depth > 0);
    setCard('forward-lag', s.oldest_unforwarded_s,
            s.queue_depth > 0 ? duration(s.oldest_unforwarded_s) : '–',
            s.oldest_unforwarded_s >= 3600);
    setCard('county-contact', s.county_contact_age_s,
            s.county_contact_age_s < 0 ? t('never') : duration(s.county_contact_age_s) + t('ago'),
            s.county_contact_age_s < 0 || s.county_contact_age_s >= 3600);
    setCard('events', s.events, num(s.events));
    setCard('forwarded', s.forwarded, num(s.forwarded));
    setCard('quarantined', s.quarantined, num(s.quarantined), s.quarantined > 0);
    const body = $('stations-body');
    body.replaceChildren();
    if (s.stations.length === 0) {
      const tr = document.createElement('tr');
      cell(tr, t('none'));
      tr.firstChild.colSpan = 7;
      body.appendChild(tr);
    }
    for (const st of s.stations) {
      const silent = st.status === 'SILENT';
      const tr = document.createElement('tr');
      tr.dataset.station = st.station;
      tr.className = silent ? 'silent' : '';
      cell(tr, st.station);
      cell(tr, silent ? t('silent') : t('ok'), silent ? 'silent' : 'ok');
      cell(tr, new Date(st.last_contact).toLocaleString(locale()));
      cell(tr, duration(st.silent_s), 'num');
      cell(tr, num(st.reports), 'num');
      cell(tr, num(st.quarantined), 'num');
      cell(tr, num(st.backlog), 'num');
      body.appendChild(tr);
    }
    renderCases();
  }

  function renderCases() {
    const cases = state.cases;
    if (!cases) {
      return;
    }
    /* Overdue first, then by due date (assigned before unassigned). */
    const rows = cases.slice().sort((a, b) => {
      if ((a.overdue === 'yes') !== (b.overdue === 'yes')) {
        return a.overdue === 'yes' ? -1 : 1;
      }
      return (a.due_on || '9999') < (b.due_on || '9999') ? -1 : 1;
    });
    const overdue = rows.filter((c) => c.overdue === 'yes').length;
    setCard('open-count', rows.length, String(rows.length));
    setCard('overdue-count', overdue, String(overdue), overdue > 0);
    const body = $('cases-body');
    body.replaceChildren();
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      cell(tr, t('no_cases'));
      tr.firstChild.colSpan = 7;
      body.appendChild(tr);
    }
    for (const c of rows) {
      const tr = document.createElement('tr');
      tr.dataset.case = c.case_id;
      tr.className = c.overdue === 'yes' ? 'late' : '';
      cell(tr, c.case_id.slice(0, 8));
      tr.firstChild.title = c.case_id;
      cell(tr, c.station);
      cell(tr, t('outcomes')[c.outcome] || c.outcome);
      cell(tr, c.assignee || '–');
      cell(tr, c.due_on || '–');
      cell(tr, c.days_left === null || c.days_left === undefined ? '–' : String(c.days_left),
           c.overdue === 'yes' ? 'num late' : 'num');
      cell(tr, c.conflict === 'yes' ? t('conflict') : '', c.conflict === 'yes' ? 'silent' : '');
      body.appendChild(tr);
    }
  }

  async function load() {
    document.documentElement.dataset.state = 'loading';
    const q = new URLSearchParams();
    if (state.silentAfter) {
      q.set('silent_after', state.silentAfter);
    }
    const headers = state.token ? { Authorization: 'Bearer ' + state.token } : {};
    try {
      const res = await fetch('/api/status?' + q.toString(), { headers });
      const body = await res.json();
      if (!res.ok) {
        throw new Error(body.error || String(res.status));
      }
      state.data = body;
      const cres = await fetch('/api/cases', { headers });
      const cbody = await cres.json();
      if (!cres.ok) {
        throw new Error(cbody.error || String(cres.status));
      }
      state.cases = cbody;
      render();
      $('status').textContent = t('loaded') + ' ' + new Date().toLocaleTimeString(locale());
      $('status').className = '';
      document.documentElement.dataset.state = 'ready';
    } catch (e) {
      $('status').textContent = t('failed') + e.message;
      $('status').className = 'error';
      document.documentElement.dataset.state = 'error';
    }
  }

  function syncUrl() {
    const q = new URLSearchParams();
    q.set('lang', state.lang);
    if (state.silentAfter) {
      q.set('silent_after', state.silentAfter);
    }
    if (state.token) {
      q.set('token', state.token);
    }
    window.history.replaceState(null, '', '?' + q.toString());
  }

  for (const b of document.querySelectorAll('nav.lang button')) {
    b.addEventListener('click', () => {
      state.lang = b.dataset.lang;
      syncUrl();
      render();
    });
  }
  renderLabels();
  syncUrl();
  load();
  window.setInterval(load, REFRESH_MS);
})();
