/* The township page (township-hub serve). Reads /api/status of the same
 * server (what `township-hub status --format json` prints), /api/cases (the
 * open cases, as `township-hub cases --format json` lists them, overdue
 * first) and /api/matters (every matter, as `list` and `search` give them:
 * filters, a search box, pages of 25); ?case=ID opens one matter with its
 * history (/api/case, as `show`), and ?case=ID&print=sheet|assign lays out
 * the case sheet or the assignment sheet (交办单) for one A4 page. Refreshes
 * every 30 s. The language is in the URL (?lang=zh|en). */
'use strict';

(function () {
  const I18N = {
    zh: {
      title: '乡镇调访办', audit: '审计记录', logout: '退出登录', queue_depth: '待转发（件）', forward_lag: '最早未转发已等待',
      county_contact: '上次联系县中心', events: '收到（件）', forwarded: '已转发（件）',
      undelivered_title: '未送达的下发（交办、地名）', none_late: '无', col_waiting: '待送达（条）',
      col_waiting_for: '已等待',
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
      matters: '全部事项', f_q: '搜索（摘要和备注）', f_from: '从', f_until: '到', f_apply: '查找',
      col_date: '日期', col_category: '类别', col_channel: '渠道', col_persons: '人数',
      col_summary: '摘要', prev: '上一页', next: '下一页', page: '第 {n} 页', any: '全部',
      no_matters: '没有符合条件的事项', short_q: '少于3个字：逐条查找（较慢）',
      back: '返回', print_sheet: '打印案件单', print_assign: '打印交办单', print: '打印',
      history: '经过', h_time: '时间', h_type: '事项', h_origin: '由', h_officer: '经办人',
      h_what: '内容', h_note: '备注', sheet: '案件单', assign_sheet: '交办单',
      sign_result: '办理结果：', sign_by: '承办人签字：', sign_date: '日期：',
      t_report: '上报', t_status: '状态变更', t_assignment: '交办', t_extension: '延期',
      t_evaluation: '评价', t_correction: '更正', t_void: '作废',
      in_force: '已生效', not_in_force: '未生效', to: '交办给', due: '限期',
      fields: { id: '编号', occurred_on: '发生日期', station: '报告村站', township: '乡镇',
        channel: '渠道', kind: '类型', persons: '人数', level: '去向', category: '类别',
        outcome: '处理结果', summary: '摘要', officer: '登记人', personal: '个人信息' },
      personal: '不在乡镇（封存在县里）',
      enums: {
        channel: { visit: '来访', letter: '来信', phone: '来电', mailbox: '信箱' },
        kind: { individual: '个体访', collective: '集体访' },
        level: { village: '在村', township: '到乡镇', county: '到县', city: '赴市',
          province: '赴省', capital: '进京' },
        category: { land: '土地', enterprise_restructuring: '企业改制', employment: '劳动就业',
          housing_demolition: '房屋拆迁', other: '其他' },
        outcome: { pending: '待处理', resolved_on_spot: '当场解决', accepted: '受理',
          closed: '办结', withdrawn: '撤回' },
        source: { direct: '直接反映', leader_reception: '领导接访', assigned: '上级交办',
          review: '复查复核' },
        satisfaction: { satisfied: '满意', basically: '基本满意', dissatisfied: '不满意',
          not_evaluated: '未评价' },
      },
      act_update: '记录办理情况', act_note: '说明', act_satisfaction: '满意度（办结时）',
      act_none: '（不填）', act_update_go: '记录', act_assign: '交办给村站',
      act_to: '村站代码（12位）', act_due: '期限', act_ask: '要求', act_assign_go: '交办',
      act_extend: '延期', act_days: '延长天数', act_stage: '阶段',
      act_stage_running: '正在进行的阶段', stage_acceptance: '受理告知', stage_conclusion: '办结',
      stage_review: '复查', act_reason_told: '告知的理由', act_approved_by: '批准的负责人',
      act_extend_go: '延期', act_correct: '更正（只填要改的项）', f_occurred_on: '发生日期',
      f_kind: '类型', f_level: '去向', f_source: '来源', act_reason: '理由',
      act_correct_go: '更正', act_void: '作废（误录，此后不计入任何数字）', act_void_go: '作废',
      unchanged: '（不变）', act_approve: '审核一个月（签发本乡镇各村站的事项，报县中心）',
      act_month: '月份 YYYY-MM', act_approve_go: '审核', act_sending: '正在提交……',
    },
    en: {
      title: 'Township mediation office', audit: 'Audit trail', logout: 'Log out', queue_depth: 'Waiting to forward',
      forward_lag: 'Oldest unforwarded, waiting', county_contact: 'Last county contact',
      events: 'Received', forwarded: 'Forwarded', quarantined: 'Quarantined',
      undelivered_title: 'Undelivered down items (assignments, place names)', none_late: 'None',
      col_waiting: 'Waiting (items)', col_waiting_for: 'Waiting for',
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
      matters: 'All matters', f_q: 'Search (summaries and notes)', f_from: 'From',
      f_until: 'Until', f_apply: 'Find', col_date: 'Date', col_category: 'Category',
      col_channel: 'Channel', col_persons: 'Persons', col_summary: 'Summary', prev: 'Previous',
      next: 'Next', page: 'page {n}', any: 'any', no_matters: 'No matters match',
      short_q: 'Fewer than 3 characters: every row scanned (slower)',
      back: 'Back', print_sheet: 'Print case sheet', print_assign: 'Print assignment sheet',
      print: 'Print', history: 'History', h_time: 'Time', h_type: 'Event', h_origin: 'By',
      h_officer: 'Officer', h_what: 'What', h_note: 'Note', sheet: 'Case sheet',
      assign_sheet: 'Assignment sheet', sign_result: 'Result: ', sign_by: 'Handled by (signature): ',
      sign_date: 'Date: ', t_report: 'report', t_status: 'status change',
      t_extension: 'extension', t_evaluation: 'evaluation', t_correction: 'correction',
      t_void: 'void',
      t_assignment: 'assignment', in_force: 'in force', not_in_force: 'not in force',
      to: 'to', due: 'due',
      fields: { id: 'Id', occurred_on: 'Occurred on', station: 'Reporting station',
        township: 'Township', channel: 'Channel', kind: 'Kind', persons: 'Persons',
        level: 'Level lodged', category: 'Category', outcome: 'Outcome', summary: 'Summary',
        officer: 'Registered by', personal: 'Personal data' },
      personal: 'not at the township (sealed to the county)',
      enums: {
        channel: { visit: 'visit', letter: 'letter', phone: 'phone call', mailbox: 'mailbox' },
        kind: { individual: 'individual', collective: 'collective' },
        level: { village: 'in the village', township: 'to the township', county: 'to the county',
          city: 'to the city', province: 'to the province', capital: 'to the capital' },
        category: { land: 'land', enterprise_restructuring: 'enterprise restructuring',
          employment: 'employment', housing_demolition: 'housing and demolition', other: 'other' },
        outcome: { pending: 'pending', resolved_on_spot: 'resolved on the spot',
          accepted: 'accepted', closed: 'concluded', withdrawn: 'withdrawn' },
        source: { direct: 'direct', leader_reception: 'leader reception', assigned: 'assigned',
          review: 'review' },
        satisfaction: { satisfied: 'satisfied', basically: 'basically satisfied',
          dissatisfied: 'dissatisfied', not_evaluated: 'not evaluated' },
      },
      act_update: 'Record a status change', act_note: 'Note',
      act_satisfaction: 'Satisfaction (on a conclusion)', act_none: '(none)',
      act_update_go: 'Record', act_assign: 'Assign to a station',
      act_to: 'Station code (12 digits)', act_due: 'Due', act_ask: 'What is asked',
      act_assign_go: 'Assign', act_extend: 'Extend', act_days: 'Days to add', act_stage: 'Stage',
      act_stage_running: 'the stage running', stage_acceptance: 'acceptance',
      stage_conclusion: 'conclusion', stage_review: 'review', act_reason_told: 'Reason told',
      act_approved_by: 'Approved by (head)', act_extend_go: 'Extend',
      act_correct: 'Correct (fill in only what changes)', f_occurred_on: 'Occurred',
      f_kind: 'Kind', f_level: 'Level', f_source: 'Source', act_reason: 'Reason',
      act_correct_go: 'Correct', act_void: 'Void (entered in error: left out of every figure)',
      act_void_go: 'Void', unchanged: '(unchanged)',
      act_approve: 'Approve a month (sign off this township\'s matters for the county)',
      act_month: 'Month YYYY-MM', act_approve_go: 'Approve', act_sending: 'Sending…',
    },
  };
  const REFRESH_MS = 30000;
  const params = new URLSearchParams(window.location.search);
  const state = {
    lang: params.get('lang') === 'en' ? 'en' : 'zh',
    me: null,
    silentAfter: params.get('silent_after') || '',
    data: null,
    cases: null,
    matters: null,
    caseId: params.get('case') || '',
    print: params.get('print') || '',
    kase: null,
    m: {
      q: params.get('q') || '', station: params.get('station') || '',
      category: params.get('category') || '', outcome: params.get('outcome') || '',
      from: params.get('from') || '', until: params.get('until') || '',
      offset: Number(params.get('offset')) || 0,
    },
  };
  /* The four rates (issue 16 item 3), per station and in total. */
  Object.assign(I18N.zh, {
    rates_title: '四率（本乡镇全部事项）', col_station: '村站', col_cases: '件数',
    r_accept: '及时受理率', r_conclude: '按期办结率', r_satisfaction: '满意率',
    r_participation: '参评率', r_total: '合计',
  });
  Object.assign(I18N.en, {
    rates_title: 'The four rates (all the township\'s cases)', col_station: 'Station',
    col_cases: 'Cases', r_accept: 'Timely acceptance', r_conclude: 'On-time conclusion',
    r_satisfaction: 'Satisfaction', r_participation: 'Participation', r_total: 'Total',
  });
  const PAGE = 25;
  const label = (field, v) => (v && I18N[state.lang].enums[field][v]) || v || '–';
  /* A UUIDv7 begins with its time: the table shows the random tail. */
  const tail = (id) => id.slice(-12);
  const $ = (id) => document.getElementById(id);
  const t = (key) => I18N[state.lang][key];
  const locale = () => (state.lang === 'zh' ? 'zh-CN' : 'en-GB');
  /* A time as YYYY-MM-DD HH:MM (local) in both languages, the order of every
   * date on the pages (a locale's 07/12/2026 reads differently in zh and en). */
  const stamp = (iso) => {
    const d = new Date(iso);
    if (isNaN(d.getTime())) {
      return iso || '–';
    }
    const p2 = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p2(d.getMonth() + 1) + '-' + p2(d.getDate()) + ' ' +
      p2(d.getHours()) + ':' + p2(d.getMinutes());
  };

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

  /* A code with its name beside it (issue 15: the county's place list,
   * sent down), or the code alone when it has none. */
  function place(code) {
    const names = (state.data && state.data.places) || {};
    return code && names[code] ? code + ' ' + names[code] : (code || '');
  }

  /* Who is logged in (issue 17): name, role, logout; office: the audit trail. */
  function renderMe() {
    const me = state.me;
    $('me').hidden = !me || !me.user;
    if (!me || !me.user) {
      return;
    }
    $('me-name').textContent = me.user;
    $('me-role').textContent = state.lang === 'zh' ? me.role_zh : me.role_en;
    $('me-audit').hidden = me.role !== 'office';
    $('me-audit').href = '/audit' + (state.lang === 'en' ? '?lang=en' : '');
    $('logout-csrf').value = me.csrf;
  }

  function render() {
    renderLabels();
    renderMe();
    renderMatters();
    renderCase();
    renderActs();
    const s = state.data;
    if (!s) {
      return;
    }
    document.title = t('title') + ' ' + s.township;
    $('township').textContent = place(s.township);
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
      cell(tr, place(st.station));
      cell(tr, silent ? t('silent') : t('ok'), silent ? 'silent' : 'ok');
      cell(tr, stamp(st.last_contact));
      cell(tr, duration(st.silent_s), 'num');
      cell(tr, num(st.reports), 'num');
      cell(tr, num(st.quarantined), 'num');
      cell(tr, num(st.backlog), 'num');
      body.appendChild(tr);
    }
    renderUndelivered(s);
    renderCases();
    renderRates();
  }

  /* A rate as its count over its base and a percent; "—" over none. */
  function rateText(num, den) {
    if (!den) {
      return num + '/' + den + ' —';
    }
    return num + '/' + den + ' ' + (Math.floor((num * 2000 + den) / (2 * den)) / 10).toFixed(1) + '%';
  }

  function renderRates() {
    const body = $('rates-body');
    if (!body || !state.rates) {
      return;
    }
    body.replaceChildren();
    for (const r of state.rates) {
      const tr = document.createElement('tr');
      tr.dataset.station = r.station;
      cell(tr, r.station === 'total' ? t('r_total') : place(r.station));
      cell(tr, String(r.cases), 'num');
      cell(tr, rateText(r.accepted_timely, r.acceptance_decided), 'num');
      cell(tr, rateText(r.concluded_on_time, r.conclusion_done), 'num');
      cell(tr, rateText(r.satisfied, r.evaluated), 'num');
      cell(tr, rateText(r.evaluated, r.concluded), 'num');
      body.appendChild(tr);
    }
  }

  /* Down items a station has not taken within the set time (issue 15). */
  function renderUndelivered(s) {
    const body = $('undelivered-body');
    body.replaceChildren();
    const late = (s.down_streams || []).filter((d) => d.undelivered);
    if (late.length === 0) {
      const tr = document.createElement('tr');
      cell(tr, t('none_late'));
      tr.firstChild.colSpan = 3;
      body.appendChild(tr);
      return;
    }
    for (const d of late) {
      const tr = document.createElement('tr');
      tr.dataset.child = d.child;
      cell(tr, place(d.child));
      cell(tr, String(d.head - d.cursor), 'num');
      cell(tr, duration(d.oldest_unacked_s), 'num late');
      body.appendChild(tr);
    }
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
      caseCell(tr, c.case_id);
      cell(tr, place(c.station));
      cell(tr, t('outcomes')[c.outcome] || c.outcome);
      cell(tr, c.assignee ? place(c.assignee) : '–');
      cell(tr, c.due_on || '–');
      cell(tr, c.days_left === null || c.days_left === undefined ? '–' : String(c.days_left),
           c.overdue === 'yes' ? 'num late' : 'num');
      cell(tr, c.conflict === 'yes' ? t('conflict') : '', c.conflict === 'yes' ? 'silent' : '');
      body.appendChild(tr);
    }
  }

  function caseCell(tr, id) {
    const td = document.createElement('td');
    const a = document.createElement('a');
    a.className = 'case';
    a.href = '?' + query({ case: id }).toString();
    a.textContent = tail(id);
    a.title = id;
    a.dataset.case = id;
    td.appendChild(a);
    tr.appendChild(td);
  }

  function fillSelect(id, field, value) {
    const sel = $(id);
    sel.replaceChildren();
    const any = document.createElement('option');
    any.value = '';
    any.textContent = t('any');
    sel.appendChild(any);
    for (const k of Object.keys(I18N[state.lang].enums[field])) {
      const o = document.createElement('option');
      o.value = k;
      o.textContent = label(field, k);
      sel.appendChild(o);
    }
    sel.value = value;
  }

  function renderMatters() {
    fillSelect('m-category', 'category', state.m.category);
    fillSelect('m-outcome', 'outcome', state.m.outcome);
    $('m-q').value = state.m.q;
    $('m-station').value = state.m.station;
    $('m-from').value = state.m.from;
    $('m-until').value = state.m.until;
    /* the date inputs: YYYY-MM-DD text fields, placeholders by /date.js */
    const rows = state.matters;
    if (!rows) {
      return;
    }
    const body = $('matters-body');
    body.replaceChildren();
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      cell(tr, t('no_matters'));
      tr.firstChild.colSpan = 9;
      body.appendChild(tr);
    }
    for (const m of rows) {
      const tr = document.createElement('tr');
      tr.dataset.case = m.id;
      caseCell(tr, m.id);
      cell(tr, m.occurred_on);
      cell(tr, m.station_name && m.station_name !== m.station ?
        m.station + ' ' + m.station_name : place(m.station));
      cell(tr, label('category', m.category));
      cell(tr, label('channel', m.channel));
      cell(tr, String(m.persons), 'num');
      cell(tr, label('outcome', m.outcome));
      cell(tr, m.assignee ? place(m.assignee) : '–');
      cell(tr, m.summary, 'summary');
      body.appendChild(tr);
    }
    $('m-page').textContent = t('page').replace('{n}', String(state.m.offset / PAGE + 1));
    $('m-prev').disabled = state.m.offset === 0;
    $('m-next').disabled = rows.length < PAGE;
    $('m-note').textContent =
      state.m.q && [...state.m.q].length < 3 ? t('short_q') : '';
  }

  function renderCase() {
    const c = state.kase;
    const view = Boolean(state.caseId);
    for (const id of ['cards-section', 'stations-section', 'cases-section', 'matters-section']) {
      $(id).hidden = view;
    }
    $('approve-section').hidden = view || !(state.me && state.me.actions
      && state.me.actions.includes('approve'));
    $('case-view').hidden = !view;
    if (state.print) {
      document.body.dataset.print = state.print;
    } else {
      delete document.body.dataset.print;
    }
    if (!view || !c) {
      return;
    }
    $('sheet-title').textContent =
      (state.print === 'assign' ? t('assign_sheet') : t('sheet')) + ' ' + c.id;
    const fb = $('case-fields-body');
    fb.replaceChildren();
    const enumf = ['channel', 'kind', 'level', 'category', 'outcome'];
    for (const k of Object.keys(I18N[state.lang].fields)) {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = I18N[state.lang].fields[k];
      tr.appendChild(th);
      let v = c[k] === null || c[k] === undefined ? '' : String(c[k]);
      if (enumf.includes(k)) {
        v = label(k, v);
      } else if (k === 'personal') {
        v = t('personal');
      }
      cell(tr, v);
      tr.lastChild.dataset.field = k;
      fb.appendChild(tr);
    }
    const hb = $('case-history-body');
    hb.replaceChildren();
    let last = null;
    for (const h of c.history) {
      const tr = document.createElement('tr');
      tr.dataset.type = h.type;
      cell(tr, stamp(h.at));
      cell(tr, t('t_' + h.type));
      cell(tr, h.origin);
      cell(tr, h.officer || '');
      let what = '';
      if (h.type === 'report') {
        what = label('outcome', h.outcome);
      } else if (h.type === 'status') {
        what = label('outcome', h.from) + ' → ' + label('outcome', h.to) + ' ('
          + (h.applied === 'not in force' ? t('not_in_force') : t('in_force')) + ')'
          + (h.conflict ? ' ⚠ ' + h.conflict : '');
      } else if (h.type === 'extension') {
        what = (t('stage_' + h.stage) || h.stage) + ' +' + h.days + ', ' + t('act_approved_by')
          + ': ' + h.approved_by;
      } else if (h.type === 'evaluation') {
        what = label('satisfaction', h.satisfaction);
      } else if (h.type === 'correction' || h.type === 'void') {
        what = h.fields ? Object.entries(h.fields).map(([k, v]) => k + ': ' + v).join(', ') : '';
      } else if (h.type === 'assignment') {
        what = t('to') + ' ' + h.to + ', ' + t('due') + ' ' + h.due_on;
        last = h;
      }
      cell(tr, what);
      cell(tr, h.note || '', 'note-cell');
      hb.appendChild(tr);
    }
    const ab = $('assign-body');
    ab.replaceChildren();
    if (last) {
      for (const [k, v] of [[t('to'), last.to], [t('due'), last.due_on],
        [t('h_origin'), last.origin], [t('h_note'), last.note]]) {
        const tr = document.createElement('tr');
        const th = document.createElement('th');
        th.textContent = k;
        tr.appendChild(th);
        cell(tr, v || '');
        ab.appendChild(tr);
      }
    }
  }

  function query(extra) {
    const q = new URLSearchParams();
    q.set('lang', state.lang);
    for (const [k, v] of Object.entries(extra || {})) {
      if (v !== '' && v !== 0 && v !== undefined) {
        q.set(k, String(v));
      }
    }
    return q;
  }

  async function getJson(path, headers) {
    const res = await fetch(path, { headers });
    if (res.status === 401) {
      window.location.assign('/login' + (state.lang === 'en' ? '?lang=en' : ''));
    }
    const body = await res.json();
    if (!res.ok) {
      throw new Error(body.error || String(res.status));
    }
    return body;
  }

  async function load() {
    document.documentElement.dataset.state = 'loading';
    const q = new URLSearchParams();
    if (state.silentAfter) {
      q.set('silent_after', state.silentAfter);
    }
    const headers = {};
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
      state.rates = await getJson('/api/rates', headers);
      if (state.caseId) {
        state.kase = await getJson('/api/case?id=' + encodeURIComponent(state.caseId), headers);
      } else {
        const mq = new URLSearchParams();
        for (const k of ['q', 'station', 'category', 'outcome', 'from', 'until']) {
          if (state.m[k]) {
            mq.set(k, state.m[k]);
          }
        }
        mq.set('limit', String(PAGE));
        mq.set('offset', String(state.m.offset));
        state.matters = await getJson('/api/matters?' + mq.toString(), headers);
      }
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
    const q = query(state.caseId ? { case: state.caseId, print: state.print }
      : Object.assign({ silent_after: state.silentAfter }, state.m));
    window.history.replaceState(null, '', '?' + q.toString());
  }

  $('m-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.m = {
      q: $('m-q').value.trim(), station: $('m-station').value.trim(),
      category: $('m-category').value, outcome: $('m-outcome').value,
      from: $('m-from').value, until: $('m-until').value, offset: 0,
    };
    syncUrl();
    load();
  });
  $('m-prev').addEventListener('click', () => {
    state.m.offset = Math.max(0, state.m.offset - PAGE);
    syncUrl();
    load();
  });
  $('m-next').addEventListener('click', () => {
    state.m.offset += PAGE;
    syncUrl();
    load();
  });
  $('case-back').addEventListener('click', () => {
    state.caseId = '';
    state.print = '';
    state.kase = null;
    syncUrl();
    render();
    load();
  });
  for (const [id, mode] of [['case-print-sheet', 'sheet'], ['case-print-assign', 'assign']]) {
    $(id).addEventListener('click', () => {
      state.print = mode;
      syncUrl();
      render();
    });
  }
  $('case-print').addEventListener('click', () => window.print());

  /* The action forms (issue 17): each shown when the role may post it (the
   * server checks again); a refusal's reason is shown next to the form. */
  const ACTS = [['update-form', 'update'], ['assign-form', 'assign'],
    ['extend-form', 'extend'], ['correct-form', 'correct'], ['void-form', 'void'],
    ['approve-form', 'approve']];

  function newKey() {
    const b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  function fillEnum(sel) {
    const keep = sel.value;
    sel.replaceChildren();
    if (sel.dataset.blank) {
      const o = document.createElement('option');
      o.value = '';
      o.textContent = t(sel.dataset.blank);
      sel.appendChild(o);
    }
    for (const [k, v] of Object.entries(I18N[state.lang].enums[sel.dataset.enum] || {})) {
      const o = document.createElement('option');
      o.value = k;
      o.textContent = v;
      sel.appendChild(o);
    }
    sel.value = keep;
    if (sel.selectedIndex < 0) {
      sel.selectedIndex = 0;
    }
  }

  function renderActs() {
    for (const [id, action] of ACTS) {
      const f = $(id);
      const onCase = id !== 'approve-form';
      const may = Boolean(state.me && state.me.actions && state.me.actions.includes(action)
        && (onCase ? state.kase : true));
      f.hidden = !may;
      if (!may) {
        continue;
      }
      f.elements.csrf.value = state.me.csrf;
      if (!f.elements.key.value) {
        f.elements.key.value = newKey();
      }
      f.elements.lang.value = state.lang;
      if (onCase) {
        f.elements.case.value = state.caseId;
        f.elements.back.value = '/?case=' + encodeURIComponent(state.caseId)
          + '&lang=' + state.lang;
      } else {
        f.elements.back.value = '/?lang=' + state.lang;
      }
      for (const sel of f.querySelectorAll('select[data-enum]')) {
        fillEnum(sel);
      }
    }
  }

  async function postAct(f) {
    const msg = f.querySelector('.refusal');
    msg.hidden = false;
    msg.textContent = t('act_sending');
    let res;
    try {
      res = await fetch(f.action, {
        method: 'POST', credentials: 'same-origin',
        body: new URLSearchParams(new FormData(f)),
      });
    } catch (e) {
      msg.textContent = String(e);
      return;
    }
    if (res.ok) {
      f.elements.key.value = '';
      window.location.assign(res.url);
      return;
    }
    msg.textContent = (await res.text()).trim();
  }

  for (const [id] of ACTS) {
    $(id).addEventListener('submit', (ev) => {
      ev.preventDefault();
      postAct(ev.target);
    });
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
  getJson('/api/me', {}).then((me) => {
    state.me = me;
    renderMe();
    renderCase();
    renderActs();
  }, () => {});
  load();
  window.setInterval(load, REFRESH_MS);
})();
