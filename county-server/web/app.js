/* The county dashboard (county-server serve). Reads the JSON API of the same
 * server (/api/stats, /api/townships, /api/cases, /api/links) and draws the page; the
 * filters and the language live in the URL's query string, so a view can be
 * bookmarked or sent. No framework; Chart.js is served by the same binary. */
'use strict';

(function () {
  const I18N = {
    zh: {
      title: '县调访中心 — 信访数据',
      from: '从', to: '到', township: '乡镇', all_townships: '全部乡镇',
      apply: '查询', reset: '清除',
      items: '件（批）次', persons: '人次', silent_links: '失联的枢纽和村站',
      by_month: '按月', by_channel: '按渠道', by_level: '按去向', by_category: '按类别',
      by_outcome: '按处理结果', by_source: '按来源',
      townships: '乡镇', col_township: '乡镇', col_last_contact: '最后联系', col_status: '状态',
      silent_title: '失联的乡镇枢纽和村站', col_code: '代码', col_kind: '类型',
      col_silent_for: '失联时长',
      open: '在办', overdue: '超期', closure_rate: '办结率',
      median_days: '办结天数（中位数）', assigned_closure_rate: '交办案件办结率',
      overdue_title: '超期案件', col_case: '案件', col_category: '类别', col_due: '期限',
      col_days_overdue: '超期天数', col_assignee: '承办',
      ok: '正常', silent: '失联', never: '从未联系', none: '无',
      kind_township: '乡镇枢纽', kind_station: '村站',
      loading: '正在读取…', loaded: '已更新', failed: '读取失败：',
      h: '小时', min: '分', d: '天', s: '秒',
      channel: { visit: '来访', letter: '来信', phone: '来电', mailbox: '信箱' },
      level: { village: '在村', township: '到乡镇', county: '到县', city: '赴市',
               province: '赴省', capital: '进京' },
      category: { land: '土地', enterprise_restructuring: '企业改制', employment: '劳动就业',
                  housing_demolition: '房屋拆迁', other: '其他' },
      outcome: { pending: '待处理', resolved_on_spot: '当场解决', accepted: '受理',
                 closed: '办结', withdrawn: '撤回' },
      source: { direct: '直接反映', leader_reception: '领导接访', assigned: '上级交办',
                review: '复查复核' },
    },
    en: {
      title: 'County mediation centre — petitions',
      from: 'From', to: 'To', township: 'Township', all_townships: 'All townships',
      apply: 'Apply', reset: 'Reset',
      items: 'Matters', persons: 'Person-times', silent_links: 'Silent hubs and stations',
      by_month: 'By month', by_channel: 'By channel', by_level: 'By level lodged',
      by_category: 'By category', by_outcome: 'By outcome', by_source: 'By source',
      townships: 'Townships', col_township: 'Township', col_last_contact: 'Last contact',
      col_status: 'Status',
      silent_title: 'Silent township hubs and stations', col_code: 'Code', col_kind: 'Kind',
      col_silent_for: 'Silent for',
      open: 'Open', overdue: 'Overdue', closure_rate: 'Closure rate',
      median_days: 'Median days to close', assigned_closure_rate: 'Assigned-case closure rate',
      overdue_title: 'Overdue cases', col_case: 'Case', col_category: 'Category',
      col_due: 'Due', col_days_overdue: 'Days overdue', col_assignee: 'Assigned to',
      ok: 'ok', silent: 'SILENT', never: 'never', none: 'none',
      kind_township: 'township hub', kind_station: 'station',
      loading: 'Loading…', loaded: 'Updated', failed: 'Could not load: ',
      h: ' h ', min: ' min', d: ' d ', s: ' s',
      channel: { visit: 'visit', letter: 'letter', phone: 'phone', mailbox: 'mailbox' },
      level: { village: 'village', township: 'township', county: 'county', city: 'city',
               province: 'province', capital: 'capital' },
      category: { land: 'land', enterprise_restructuring: 'enterprise restructuring',
                  employment: 'employment', housing_demolition: 'housing & demolition',
                  other: 'other' },
      outcome: { pending: 'pending', resolved_on_spot: 'resolved on the spot',
                 accepted: 'accepted', closed: 'closed', withdrawn: 'withdrawn' },
      source: { direct: 'direct', leader_reception: 'leader reception', assigned: 'assigned',
                review: 'review' },
    },
  };
  const DIMS = ['month', 'channel', 'level', 'category', 'outcome', 'source'];
  const COLORS = { items: '#1f5f99', persons: '#d08a2c' };

  const params = new URLSearchParams(window.location.search);
  const state = {
    lang: params.get('lang') === 'en' ? 'en' : 'zh',
    from: params.get('from') || '',
    to: params.get('to') || '',
    township: params.get('township') || '',
    token: params.get('token') || '',
    data: null,
  };
  const charts = {};
  const $ = (id) => document.getElementById(id);
  const t = (key) => I18N[state.lang][key];

  function label(dim, value) {
    const names = I18N[state.lang][dim];
    return names && names[value] ? names[value] : value;
  }

  function num(n) {
    return Number(n).toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-GB');
  }

  function when(iso) {
    if (!iso) {
      return '—';
    }
    return new Date(iso).toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-GB');
  }

  function duration(s) {
    if (s === null || s === undefined) {
      return '';
    }
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

  /* The filters as API parameters (empty ones left out). */
  function filterQuery(extra) {
    const q = new URLSearchParams(extra || {});
    for (const k of ['from', 'to', 'township']) {
      if (state[k]) {
        q.set(k, state[k]);
      }
    }
    return q;
  }

  function syncUrl() {
    const q = filterQuery();
    q.set('lang', state.lang);
    if (state.token) {
      q.set('token', state.token);
    }
    window.history.replaceState(null, '', '?' + q.toString());
  }

  async function api(path, query) {
    const headers = state.token ? { Authorization: 'Bearer ' + state.token } : {};
    const res = await fetch(path + '?' + query.toString(), { headers });
    const body = await res.json();
    if (!res.ok) {
      throw new Error(path + ': ' + (body.error || res.status));
    }
    return body;
  }

  async function load() {
    document.documentElement.dataset.state = 'loading';
    setStatus(t('loading'), false);
    try {
      const calls = [api('/api/stats', filterQuery())];
      for (const dim of DIMS) {
        calls.push(api('/api/stats', filterQuery({ by: dim })));
      }
      calls.push(api('/api/townships', filterQuery()));
      calls.push(api('/api/townships', new URLSearchParams()));
      calls.push(api('/api/links', new URLSearchParams()));
      calls.push(api('/api/cases', filterQuery({ overdue: '1' })));
      const got = await Promise.all(calls);
      state.data = {
        total: got[0].total,
        by: Object.fromEntries(DIMS.map((dim, i) => [dim, got[i + 1].rows])),
        townships: got[DIMS.length + 1].rows,
        allTownships: got[DIMS.length + 2].rows.map((r) => r.township),
        links: got[DIMS.length + 3].children || [],
        overdue: got[DIMS.length + 4],
      };
      render();
      setStatus(t('loaded') + ' ' + new Date().toLocaleTimeString(state.lang === 'zh' ? 'zh-CN' : 'en-GB'), false);
      document.documentElement.dataset.state = 'ready';
    } catch (e) {
      setStatus(t('failed') + e.message, true);
      document.documentElement.dataset.state = 'error';
    }
  }

  function setStatus(text, error) {
    const el = $('status');
    el.textContent = text;
    el.className = error ? 'error' : '';
  }

  function setTotal(id, value) {
    const el = $(id);
    el.dataset.value = String(value);
    el.textContent = num(value);
  }

  /* Months with no matters are in the API's answer as nothing; the chart
   * shows them as zero between the first and the last month. */
  function fillMonths(rows) {
    if (rows.length < 2) {
      return rows;
    }
    const have = new Map(rows.map((r) => [r.month, r]));
    const out = [];
    let [y, m] = rows[0].month.split('-').map(Number);
    const last = rows[rows.length - 1].month;
    for (;;) {
      const key = y + '-' + String(m).padStart(2, '0');
      out.push(have.get(key) || { month: key, items: 0, persons: 0 });
      if (key >= last) {
        return out;
      }
      m = m === 12 ? 1 : m + 1;
      y = m === 1 ? y + 1 : y;
    }
  }

  function drawChart(dim) {
    const rows = dim === 'month' ? fillMonths(state.data.by[dim]) : state.data.by[dim];
    const labels = rows.map((r) => (dim === 'month' ? r.month : label(dim, r[dim])));
    const config = {
      type: dim === 'month' ? 'line' : 'bar',
      data: {
        labels,
        datasets: [
          { label: t('items'), data: rows.map((r) => r.items), backgroundColor: COLORS.items,
            borderColor: COLORS.items },
          { label: t('persons'), data: rows.map((r) => r.persons),
            backgroundColor: COLORS.persons, borderColor: COLORS.persons },
        ],
      },
      options: { animation: false, responsive: true, plugins: { legend: { position: 'bottom' } },
                 scales: { y: { beginAtZero: true } } },
    };
    const canvas = $('chart-' + dim);
    canvas.setAttribute('aria-label', t('by_' + dim) + ': ' +
      rows.map((r, i) => labels[i] + ' ' + r.items + '/' + r.persons).join(', '));
    if (charts[dim]) {
      charts[dim].destroy();
    }
    if (window.Chart) {
      charts[dim] = new window.Chart(canvas, config);
    }
  }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) {
      td.className = cls;
    }
    tr.appendChild(td);
    return td;
  }

  /* A rate or a median: a number with one decimal, or null (none). */
  function setDecimal(id, value, suffix) {
    const el = $(id);
    el.dataset.value = value === null || value === undefined ? '' : String(value);
    el.textContent = el.dataset.value === '' ? '—' : Number(value).toFixed(1) + suffix;
  }

  function renderOverdue() {
    const body = $('overdue-body');
    body.replaceChildren();
    if (state.data.overdue.length === 0) {
      const tr = document.createElement('tr');
      const td = cell(tr, t('none'));
      td.colSpan = 6;
      body.appendChild(tr);
      return;
    }
    /* most overdue first */
    const rows = [...state.data.overdue].sort((a, b) => a.days_left - b.days_left ||
      (a.case_id < b.case_id ? -1 : 1));
    for (const c of rows) {
      const tr = document.createElement('tr');
      tr.dataset.case = c.case_id;
      cell(tr, c.case_id);
      cell(tr, c.township);
      cell(tr, label('category', c.category));
      cell(tr, c.due_on);
      cell(tr, num(-c.days_left), 'num silent');
      cell(tr, c.assignee || '');
      body.appendChild(tr);
    }
  }

  function renderTownships() {
    const body = $('townships-body');
    body.replaceChildren();
    for (const r of state.data.townships) {
      const tr = document.createElement('tr');
      tr.dataset.township = r.township;
      cell(tr, r.township);
      cell(tr, num(r.items), 'num');
      cell(tr, num(r.persons), 'num');
      cell(tr, num(r.open), 'num').dataset.col = 'open';
      cell(tr, num(r.overdue), r.overdue > 0 ? 'num silent' : 'num').dataset.col = 'overdue';
      cell(tr, when(r.last_contact));
      const st = r.silent === null ? t('never') : r.silent ? t('silent') : t('ok');
      cell(tr, st, r.silent === false ? 'ok' : 'silent');
      body.appendChild(tr);
    }
  }

  function renderSilent() {
    const body = $('silent-body');
    body.replaceChildren();
    const silent = state.data.links.filter((l) => l.status === 'SILENT');
    setTotal('total-silent', silent.length);
    if (silent.length === 0) {
      const tr = document.createElement('tr');
      const td = cell(tr, t('none'));
      td.colSpan = 4;
      body.appendChild(tr);
      return;
    }
    for (const l of silent) {
      const tr = document.createElement('tr');
      cell(tr, l.child);
      cell(tr, l.kind === 'township' ? t('kind_township') : t('kind_station'));
      cell(tr, when(l.last_contact));
      cell(tr, duration(l.silent_s), 'num silent');
      body.appendChild(tr);
    }
  }

  function renderTownshipOptions() {
    const sel = $('f-township');
    const codes = new Set(state.data.allTownships);
    if (state.township) {
      codes.add(state.township);
    }
    sel.replaceChildren();
    const all = document.createElement('option');
    all.value = '';
    all.textContent = t('all_townships');
    sel.appendChild(all);
    for (const code of [...codes].sort()) {
      const o = document.createElement('option');
      o.value = code;
      o.textContent = code;
      o.defaultSelected = code === state.township; /* the attribute, so it shows in the DOM */
      sel.appendChild(o);
    }
    sel.value = state.township;
  }

  function renderLabels() {
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('title');
    for (const el of document.querySelectorAll('[data-i18n]')) {
      el.textContent = t(el.dataset.i18n);
    }
    for (const b of document.querySelectorAll('nav.lang button')) {
      b.setAttribute('aria-pressed', String(b.dataset.lang === state.lang));
    }
    $('f-from').value = state.from;
    $('f-to').value = state.to;
  }

  function render() {
    renderLabels();
    if (!state.data) {
      return;
    }
    setTotal('total-items', state.data.total.items);
    setTotal('total-persons', state.data.total.persons);
    setTotal('total-open', state.data.total.open);
    setTotal('total-overdue', state.data.total.overdue);
    setDecimal('total-closure-rate', state.data.total.closure_rate, '%');
    setDecimal('total-median-days', state.data.total.median_days_to_close, '');
    setDecimal('total-assigned-closure-rate', state.data.total.assigned_closure_rate, '%');
    for (const dim of DIMS) {
      drawChart(dim);
    }
    renderTownships();
    renderOverdue();
    renderSilent();
    renderTownshipOptions();
  }

  $('filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.from = $('f-from').value;
    state.to = $('f-to').value;
    state.township = $('f-township').value;
    syncUrl();
    load();
  });
  $('f-reset').addEventListener('click', () => {
    state.from = state.to = state.township = '';
    syncUrl();
    load();
  });
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
})();
