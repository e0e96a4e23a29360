/* The county dashboard (county-server serve). Reads the JSON API of the same
 * server (/api/stats, /api/townships, /api/cases, /api/links, /api/matters)
 * and draws the page; the filters and the language live in the URL's query
 * string, so a view can be bookmarked or sent. A click on a township row, a
 * chart bar or a month narrows the matters list to it; a search box finds
 * summaries and notes; a case (a click on its id or on an overdue row)
 * opens with its history (/api/case) and the print layouts of the case
 * sheet and the assignment sheet (交办单). No framework; Chart.js is served
 * by the same binary. */
'use strict';

(function () {
  const I18N = {
    zh: {
      title: '县调访中心 — 信访数据',
      audit: '审计记录', appointments: '约访日程', logout: '退出登录', login_again: '登录已结束，请重新登录',
      act_assign: '交办', act_to: '交办给（乡镇、村站或部门代码）', act_due: '期限',
      act_note: '要求', act_assign_go: '交办',
      act_update: '记录办理情况', act_update_note: '说明', act_update_go: '记录',
      act_own: '领导包案', act_leader: '包案领导', act_portfolio: '分管战线', act_own_go: '包案',
      owner: '包案领导', portfolio: '分管', t_ownership: '包案', agenda: '例会议程',
      act_extend: '延期', act_days: '延长天数', act_stage: '阶段',
      act_stage_running: '正在进行的阶段', stage_acceptance: '受理告知', stage_conclusion: '办结',
      stage_review: '复查', act_reason_told: '告知的理由', act_approved_by: '批准的负责人',
      act_extend_go: '延期', act_evaluate: '评价（满意度）', act_satisfaction: '满意度',
      act_evaluate_go: '记录评价', act_correct: '更正（只填要改的项）', f_occurred_on: '发生日期',
      f_channel: '渠道', f_kind: '类型', f_persons: '人数', f_level: '去向', f_category: '类别',
      f_source: '来源', f_summary: '摘要', act_reason: '理由', act_correct_go: '更正',
      act_void: '作废（误录，此后不计入任何数字）', act_void_go: '作废', unchanged: '（不变）',
      act_lock: '锁定（签发后数字不再变动，更正列为修订）', act_lock_month: '月份 YYYY-MM',
      act_lock_year: '或全年 YYYY', act_lock_go: '锁定', act_sending: '正在提交……',
      t_correction: '更正', t_void: '作废', reason: '理由',
      o_accepted: '受理', o_closed: '办结', o_withdrawn: '撤回',
      from: '从', to: '到', township: '乡镇', all_townships: '全部乡镇',
      apply: '查询', reset: '清除',
      items: '件（批）次', persons: '人次', silent_links: '失联的枢纽和村站',
      by_month: '按月', by_channel: '按渠道', by_level: '按去向', by_category: '按类别',
      by_outcome: '按处理结果', by_source: '按来源',
      townships: '乡镇', col_township: '乡镇', col_last_contact: '最后联系', col_status: '状态',
      silent_title: '失联的乡镇枢纽和村站', col_code: '代码', col_kind: '类型',
      col_silent_for: '失联时长',
      undelivered_title: '未送达的下发（交办、地名）', col_child: '接收方', col_waiting: '待送达（条）',
      col_waiting_for: '已等待',
      open: '在办', overdue: '超期', closure_rate: '办结率',
      median_days: '办结天数（中位数）', assigned_closure_rate: '交办案件办结率',
      overdue_title: '超期案件', col_case: '案件', col_category: '类别', col_due: '期限',
      col_days_overdue: '超期天数', col_assignee: '承办',
      ok: '正常', silent: '失联', never: '从未联系', none: '无',
      signoff_title: '审核与锁定', col_month: '月份', col_state: '状态', col_approved: '审核',
      col_locked: '锁定', st_open: '未审核', st_approved: '已审核', st_locked: '已锁定',
      st_amended: '已修正',
      kind_township: '乡镇枢纽', kind_station: '村站',
      loading: '正在读取…', loaded: '已更新', failed: '读取失败：',
      h: '小时', min: '分', d: '天', s: '秒',
      matters_title: '事项', q: '搜索（摘要和备注）', find: '查找', clear: '清除',
      col_date: '日期', col_station: '村站', col_channel: '渠道', col_outcome: '处理结果',
      col_summary: '摘要', no_matters: '没有符合条件的事项',
      short_q: '少于3个字：逐条查找（较慢）', showing: '显示',
      back: '返回', print_sheet: '打印案件单', print_assign: '打印交办单', print: '打印',
      history: '经过', h_time: '时间', h_type: '事项', h_origin: '由', h_officer: '经办人',
      h_what: '内容', h_note: '备注', sheet: '案件单', assign_sheet: '交办单',
      sign_result: '办理结果：', sign_by: '承办人签字：', sign_date: '日期：',
      t_report: '上报', t_status: '状态变更', t_assignment: '交办',
      t_extension: '延期', t_evaluation: '评价', days: '天', approved_by: '批准',
      stage: { acceptance: '受理告知', conclusion: '办结', review: '复查' },
      satisfaction: { satisfied: '满意', basically: '基本满意', dissatisfied: '不满意',
        not_evaluated: '未评价' },
      in_force: '已生效', not_in_force: '未生效', assign_to: '交办给', due: '限期',
      fields: { id: '编号', occurred_on: '发生日期', station: '报告村站', township: '乡镇',
        channel: '渠道', kind: '类型', persons: '人数', level: '去向', category: '类别',
        outcome: '处理结果', source: '来源', summary: '摘要', officer: '登记人',
        received: '收到时间', personal: '个人信息' },
      personal_sealed: '已封存（页面不显示）', personal_none: '无',
      kind: { individual: '个体访', collective: '集体访' },
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
      audit: 'Audit trail', appointments: 'Appointments', logout: 'Log out', login_again: 'The login ended: log in again',
      act_assign: 'Assign', act_to: 'Assign to (township, station or department code)',
      act_due: 'Due', act_note: 'What is asked', act_assign_go: 'Assign',
      act_update: 'Record a status change', act_update_note: 'Note', act_update_go: 'Record',
      act_own: 'Leader ownership', act_leader: 'Leader', act_portfolio: 'Portfolio',
      act_own_go: 'Own', owner: 'Owned by', portfolio: 'portfolio', t_ownership: 'ownership',
      agenda: 'Meeting agenda',
      act_extend: 'Extend', act_days: 'Days to add', act_stage: 'Stage',
      act_stage_running: 'the stage running', stage_acceptance: 'acceptance',
      stage_conclusion: 'conclusion', stage_review: 'review', act_reason_told: 'Reason told',
      act_approved_by: 'Approved by (head)', act_extend_go: 'Extend',
      act_evaluate: 'Evaluation (satisfaction)', act_satisfaction: 'Satisfaction',
      act_evaluate_go: 'Record the evaluation',
      act_correct: 'Correct (fill in only what changes)', f_occurred_on: 'Occurred',
      f_channel: 'Channel', f_kind: 'Kind', f_persons: 'Persons', f_level: 'Level',
      f_category: 'Category', f_source: 'Source', f_summary: 'Summary', act_reason: 'Reason',
      act_correct_go: 'Correct', act_void: 'Void (entered in error: left out of every figure)',
      act_void_go: 'Void', unchanged: '(unchanged)',
      act_lock: 'Lock (signed off: the figures stay; later corrections are amendments)',
      act_lock_month: 'Month YYYY-MM', act_lock_year: 'or the year YYYY', act_lock_go: 'Lock',
      act_sending: 'Sending…', t_correction: 'correction', t_void: 'void', reason: 'reason',
      o_accepted: 'accepted', o_closed: 'closed', o_withdrawn: 'withdrawn',
      from: 'From', to: 'To', township: 'Township', all_townships: 'All townships',
      apply: 'Apply', reset: 'Reset',
      items: 'Matters', persons: 'Person-times', silent_links: 'Silent hubs and stations',
      by_month: 'By month', by_channel: 'By channel', by_level: 'By level lodged',
      by_category: 'By category', by_outcome: 'By outcome', by_source: 'By source',
      townships: 'Townships', col_township: 'Township', col_last_contact: 'Last contact',
      col_status: 'Status',
      silent_title: 'Silent township hubs and stations', col_code: 'Code', col_kind: 'Kind',
      col_silent_for: 'Silent for',
      undelivered_title: 'Undelivered down items (assignments, place names)', col_child: 'To',
      col_waiting: 'Waiting (items)', col_waiting_for: 'Waiting for',
      open: 'Open', overdue: 'Overdue', closure_rate: 'Closure rate',
      median_days: 'Median days to close', assigned_closure_rate: 'Assigned-case closure rate',
      overdue_title: 'Overdue cases', col_case: 'Case', col_category: 'Category',
      col_due: 'Due', col_days_overdue: 'Days overdue', col_assignee: 'Assigned to',
      ok: 'ok', silent: 'SILENT', never: 'never', none: 'none',
      signoff_title: 'Sign-off (approval and lock)', col_month: 'Month', col_state: 'State',
      col_approved: 'Approved', col_locked: 'Locked', st_open: 'open', st_approved: 'approved',
      st_locked: 'locked', st_amended: 'amended',
      kind_township: 'township hub', kind_station: 'station',
      loading: 'Loading…', loaded: 'Updated', failed: 'Could not load: ',
      h: ' h ', min: ' min', d: ' d ', s: ' s',
      matters_title: 'Matters', q: 'Search (summaries and notes)', find: 'Find', clear: 'Clear',
      col_date: 'Date', col_station: 'Station', col_channel: 'Channel', col_outcome: 'Outcome',
      col_summary: 'Summary', no_matters: 'No matters match',
      short_q: 'Fewer than 3 characters: every row scanned (slower)', showing: 'Showing',
      back: 'Back', print_sheet: 'Print case sheet', print_assign: 'Print assignment sheet',
      print: 'Print', history: 'History', h_time: 'Time', h_type: 'Event', h_origin: 'By',
      h_officer: 'Officer', h_what: 'What', h_note: 'Note', sheet: 'Case sheet',
      assign_sheet: 'Assignment sheet', sign_result: 'Result: ',
      sign_by: 'Handled by (signature): ', sign_date: 'Date: ', t_report: 'report',
      t_status: 'status change', t_assignment: 'assignment', in_force: 'in force',
      t_extension: 'extension', t_evaluation: 'evaluation', days: 'days',
      approved_by: 'approved by',
      stage: { acceptance: 'acceptance', conclusion: 'conclusion', review: 'review' },
      satisfaction: { satisfied: 'satisfied', basically: 'basically satisfied',
        dissatisfied: 'dissatisfied', not_evaluated: 'not evaluated' },
      not_in_force: 'not in force', assign_to: 'to', due: 'due',
      fields: { id: 'Id', occurred_on: 'Occurred on', station: 'Reporting station',
        township: 'Township', channel: 'Channel', kind: 'Kind', persons: 'Persons',
        level: 'Level lodged', category: 'Category', outcome: 'Outcome', source: 'Source',
        summary: 'Summary', officer: 'Registered by', received: 'Received',
        personal: 'Personal data' },
      personal_sealed: 'sealed (not shown on the page)', personal_none: 'none',
      kind: { individual: 'individual', collective: 'collective' },
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
  /* The four rates and the assessment table (issue 16 item 3). */
  Object.assign(I18N.zh, {
    rates_title: '四率（所选事项）', col_rate: '指标', col_count: '数量', col_base: '基数',
    col_pct: '比率',
    r_accept: '及时受理率', r_conclude: '按期办结率', r_satisfaction: '满意率',
    r_participation: '参评率',
    assessment_title: '目标考核（按单位代码排列，不排名）', a_unit: '单位', a_kind: '类别',
    a_overdue: '当前超期', a_median: '办结用时中位数（天）', a_total: '合计',
    a_township: '乡镇', a_department: '县直部门',
  });
  Object.assign(I18N.en, {
    rates_title: 'The four rates (matters selected)', col_rate: 'Rate', col_count: 'Count',
    col_base: 'Base', col_pct: 'Rate',
    r_accept: 'Timely acceptance', r_conclude: 'On-time conclusion',
    r_satisfaction: 'Satisfaction', r_participation: 'Participation',
    assessment_title: 'Assessment (in code order, not a ranking)', a_unit: 'Unit', a_kind: 'Kind',
    a_overdue: 'Overdue now', a_median: 'Median days to conclude', a_total: 'Total',
    a_township: 'township', a_department: 'county department',
  });
  const DIMS = ['month', 'channel', 'level', 'category', 'outcome', 'source'];
  const COLORS = { items: '#1f5f99', persons: '#d08a2c' };

  const params = new URLSearchParams(window.location.search);
  const state = {
    lang: params.get('lang') === 'en' ? 'en' : 'zh',
    from: params.get('from') || '',
    to: params.get('to') || '',
    township: params.get('township') || '',
    me: null,
    data: null,
    q: params.get('q') || '',
    /* what a click on a township, a bar or a month narrowed the list to */
    extra: JSON.parse(params.get('extra') || '{}'),
    caseId: params.get('case') || '',
    print: params.get('print') || '',
    kase: null,
    matters: null,
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
    /* one order in both languages, as every date on the pages: YYYY-MM-DD HH:MM
     * (local time); a locale's order (07/12/2026) reads differently in zh and en */
    const d = new Date(iso);
    if (isNaN(d.getTime())) {
      return iso;
    }
    const p2 = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p2(d.getMonth() + 1) + '-' + p2(d.getDate()) + ' ' +
      p2(d.getHours()) + ':' + p2(d.getMinutes());
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

  /* The matters list: the page's filters, the clicked narrowing, the text. */
  function mattersQuery() {
    const q = filterQuery();
    for (const [k, v] of Object.entries(state.extra)) {
      q.set(k, v);
    }
    if (state.q) {
      q.set('q', state.q);
    }
    return q;
  }

  function syncUrl() {
    const q = filterQuery();
    if (state.q) {
      q.set('q', state.q);
    }
    if (Object.keys(state.extra).length) {
      q.set('extra', JSON.stringify(state.extra));
    }
    if (state.caseId) {
      q.set('case', state.caseId);
    }
    if (state.print) {
      q.set('print', state.print);
    }
    q.set('lang', state.lang);
    window.history.replaceState(null, '', '?' + q.toString());
  }

  async function api(path, query) {
    const res = await fetch(path + '?' + query.toString(), { credentials: 'same-origin' });
    if (res.status === 401) {
      /* the login ended: log in again */
      window.location.assign('/login' + (state.lang === 'en' ? '?lang=en' : ''));
      throw new Error(t('login_again'));
    }
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
      if (state.caseId) {
        state.kase = await api('/api/case', new URLSearchParams({ id: state.caseId }));
        render();
        setStatus(t('loaded'), false);
        document.documentElement.dataset.state = 'ready';
        return;
      }
      state.matters = await api('/api/matters', mattersQuery());
      const calls = [api('/api/stats', filterQuery())];
      for (const dim of DIMS) {
        calls.push(api('/api/stats', filterQuery({ by: dim })));
      }
      calls.push(api('/api/townships', filterQuery()));
      calls.push(api('/api/townships', new URLSearchParams()));
      calls.push(api('/api/links', new URLSearchParams()));
      calls.push(api('/api/cases', filterQuery({ overdue: '1' })));
      calls.push(api('/api/signoff', new URLSearchParams()));
      /* the assessment: the filter's dates, else this year */
      const aq = new URLSearchParams();
      if (state.from) {
        aq.set('from', state.from);
      }
      if (state.to) {
        aq.set('to', state.to);
      }
      calls.push(api('/api/assessment', aq));
      const got = await Promise.all(calls);
      state.data = {
        total: got[0].total,
        by: Object.fromEntries(DIMS.map((dim, i) => [dim, got[i + 1].rows])),
        townships: got[DIMS.length + 1].rows,
        allTownships: got[DIMS.length + 2].rows.map((r) => r.township),
        links: got[DIMS.length + 3].children || [],
        places: got[DIMS.length + 3].places || {},
        streams: got[DIMS.length + 3].down_streams || [],
        overdue: got[DIMS.length + 4],
        signoff: got[DIMS.length + 5].rows || [],
        assessment: got[DIMS.length + 6].rows || [],
        assessmentPeriod: got[DIMS.length + 6].from + ' — ' + got[DIMS.length + 6].to,
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
            borderColor: COLORS.items, yAxisID: 'y' },
          { label: t('persons'), data: rows.map((r) => r.persons),
            backgroundColor: COLORS.persons, borderColor: COLORS.persons, yAxisID: 'y1' },
        ],
      },
      /* matters and persons on their own axes (left, right): a collective
       * matter's many persons no longer flatten the small bars */
      options: { animation: false, responsive: true, plugins: { legend: { position: 'bottom' } },
                 scales: {
                   y: { beginAtZero: true, position: 'left',
                        title: { display: true, text: t('items') } },
                   y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false },
                         title: { display: true, text: t('persons') } },
                 },
                 onClick: (evt, elements) => {
                   if (elements && elements.length) {
                     narrow(dim, rows[elements[0].index][dim]);
                   }
                 } },
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

  /* A click on a township, a bar or a month: the matters list shows the
   * matching matters. */
  function narrow(dim, value) {
    if (dim === 'month') {
      const [y, m] = value.split('-').map(Number);
      const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
      state.extra = { from: value + '-01', to: value + '-' + String(last).padStart(2, '0') };
    } else {
      state.extra = { [dim]: value };
    }
    syncUrl();
    loadMatters(true);
  }

  async function loadMatters(scroll) {
    try {
      state.matters = await api('/api/matters', mattersQuery());
      renderMatters();
      if (scroll) {
        $('matters-section').scrollIntoView();
      }
      document.documentElement.dataset.matters = 'ready';
    } catch (e) {
      setStatus(t('failed') + e.message, true);
    }
  }

  function openCase(id) {
    state.caseId = id;
    state.print = '';
    syncUrl();
    load();
  }

  function caseCell(tr, id) {
    const td = document.createElement('td');
    const a = document.createElement('a');
    a.className = 'case';
    a.href = '#';
    a.textContent = id.slice(-12); /* a UUIDv7 begins with its time: its random tail */
    a.title = id;
    a.addEventListener('click', (e) => {
      e.preventDefault();
      openCase(id);
    });
    td.appendChild(a);
    tr.appendChild(td);
  }

  function renderMatters() {
    const rows = state.matters;
    if (!rows) {
      return;
    }
    const chips = Object.entries(state.extra)
      .map(([k, v]) => (I18N[state.lang][k] && typeof I18N[state.lang][k] === 'object'
        ? label(k, v) : (t(k) || k) + ' ' + v));
    $('m-filter').hidden = chips.length === 0;
    $('m-filter-text').textContent = chips.join(' · ');
    $('q').value = state.q;
    $('m-note').textContent = state.q && [...state.q].length < 3 ? t('short_q') : '';
    const body = $('matters-body');
    body.replaceChildren();
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      cell(tr, t('no_matters')).colSpan = 8;
      body.appendChild(tr);
    }
    for (const m of rows) {
      const tr = document.createElement('tr');
      tr.dataset.matter = m.id;
      caseCell(tr, m.id);
      cell(tr, m.occurred_on);
      cell(tr, m.station);
      cell(tr, label('category', m.category));
      cell(tr, label('channel', m.channel));
      cell(tr, num(m.persons), 'num');
      cell(tr, label('outcome', m.outcome));
      cell(tr, m.summary);
      body.appendChild(tr);
    }
  }

  function renderCase() {
    const view = Boolean(state.caseId);
    for (const el of document.querySelectorAll('.dash')) {
      el.hidden = view;
    }
    $('case-view').hidden = !view;
    if (state.print) {
      document.body.dataset.print = state.print;
    } else {
      delete document.body.dataset.print;
    }
    const c = state.kase;
    if (!view || !c) {
      return;
    }
    $('sheet-title').textContent =
      (state.print === 'assign' ? t('assign_sheet') : t('sheet')) + ' ' + c.id;
    const fb = $('case-fields-body');
    fb.replaceChildren();
    const enums = ['channel', 'kind', 'level', 'category', 'outcome', 'source'];
    for (const k of Object.keys(I18N[state.lang].fields)) {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = I18N[state.lang].fields[k];
      tr.appendChild(th);
      let v = c[k] === null || c[k] === undefined ? '' : String(c[k]);
      if (enums.includes(k)) {
        v = label(k, v);
      } else if (k === 'personal') {
        v = v === 'sealed' ? t('personal_sealed') : t('personal_none');
      } else if (k === 'received') {
        v = when(v);
      }
      cell(tr, v).dataset.field = k;
      fb.appendChild(tr);
    }
    const hb = $('case-history-body');
    hb.replaceChildren();
    let last = null;
    let own = null; /* the ownership in force: the latest made (docs/MEETING.md) */
    for (const h of c.history) {
      const tr = document.createElement('tr');
      tr.dataset.type = h.type;
      cell(tr, when(h.at));
      cell(tr, t('t_' + h.type));
      cell(tr, h.origin);
      cell(tr, h.officer || '');
      let what;
      if (h.type === 'report') {
        what = label('outcome', h.outcome);
      } else if (h.type === 'status') {
        what = label('outcome', h.from) + ' → ' + label('outcome', h.to) + ' ('
          + (h.applied === 'not in force' ? t('not_in_force') : t('in_force')) + ')'
          + (h.conflict ? ' ⚠ ' + h.conflict : '');
      } else if (h.type === 'extension') {
        what = (t('stage')[h.stage] || h.stage) + ' +' + h.days + ' ' + t('days') + ', '
          + t('approved_by') + ' ' + h.approved_by;
      } else if (h.type === 'evaluation') {
        what = t('satisfaction')[h.satisfaction] || h.satisfaction;
      } else if (h.type === 'ownership') {
        what = h.leader + (h.portfolio ? ' (' + t('portfolio') + ' ' + h.portfolio + ')' : '');
        own = what;
      } else if (h.type === 'correction' || h.type === 'void') {
        what = h.fields ? Object.entries(h.fields).map(([k, v]) =>
          (I18N[state.lang].fields[k] || k) + ': ' + label(k, String(v))).join(', ') : '';
      } else {
        what = t('assign_to') + ' ' + h.to + ', ' + t('due') + ' ' + h.due_on;
        last = h;
      }
      cell(tr, what);
      cell(tr, h.note || '');
      hb.appendChild(tr);
    }
    $('case-owner').hidden = !own;
    $('case-owner-name').textContent = own || '';
    const ab = $('assign-body');
    ab.replaceChildren();
    if (last) {
      for (const [k, v] of [[t('assign_to'), last.to], [t('due'), last.due_on],
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
    /* overdue at any stage (issue 16): the earliest due date passed, the
     * 交办 one or a statutory stage's; most overdue first */
    const stageDue = (c) => {
      const cand = [];
      if (c.due_on && c.days_left !== null && c.days_left < 0) {
        cand.push([c.due_on, c.days_left]);
      }
      for (const [d, l] of [['accept_due', 'accept_left'], ['conclude_due', 'conclude_left'],
        ['review_due', 'review_left']]) {
        if (c[l] !== null && c[l] !== undefined && c[l] < 0) {
          cand.push([c[d], c[l]]);
        }
      }
      cand.sort((x, y) => x[1] - y[1]);
      return cand[0] || [c.due_on, c.days_left];
    };
    const rows = [...state.data.overdue].map((c) => [c, stageDue(c)])
      .sort((a, b) => a[1][1] - b[1][1] || (a[0].case_id < b[0].case_id ? -1 : 1));
    for (const [c, [due, left]] of rows) {
      const tr = document.createElement('tr');
      tr.dataset.case = c.case_id;
      tr.addEventListener('click', () => openCase(c.case_id));
      cell(tr, c.case_id);
      cell(tr, place(c.township));
      cell(tr, label('category', c.category));
      cell(tr, due);
      cell(tr, num(-left), 'num silent');
      cell(tr, place(c.assignee));
      body.appendChild(tr);
    }
  }

  /* A code with its name beside it (issue 15: `places import`), or the
   * code alone when it has none. */
  function place(code) {
    const names = (state.data && state.data.places) || {};
    return code && names[code] ? code + ' ' + names[code] : (code || '');
  }

  /* Down items a child has not taken within the set time (issue 15). */
  function renderUndelivered() {
    const body = $('undelivered-body');
    if (!body) {
      return;
    }
    body.replaceChildren();
    const late = state.data.streams.filter((d) => d.undelivered);
    if (late.length === 0) {
      const tr = document.createElement('tr');
      cell(tr, t('none')).colSpan = 3;
      body.appendChild(tr);
      return;
    }
    for (const d of late) {
      const tr = document.createElement('tr');
      tr.dataset.child = d.child;
      cell(tr, place(d.child));
      cell(tr, num(d.head - d.cursor), 'num');
      cell(tr, duration(d.oldest_unacked_s), 'num silent');
      body.appendChild(tr);
    }
  }

  function renderTownships() {
    const body = $('townships-body');
    body.replaceChildren();
    for (const r of state.data.townships) {
      const tr = document.createElement('tr');
      tr.dataset.township = r.township;
      tr.addEventListener('click', () => narrow('township', r.township));
      cell(tr, place(r.township));
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

  /* Each township-month's sign-off (issue 17 item 5): open, approved,
   * locked or amended, with who and when. */
  function renderSignoff() {
    const body = $('signoff-body');
    if (!body) {
      return;
    }
    body.replaceChildren();
    for (const r of state.data.signoff) {
      const tr = document.createElement('tr');
      tr.dataset.township = r.township;
      tr.dataset.month = r.month;
      tr.dataset.state = r.state;
      cell(tr, r.month);
      cell(tr, place(r.township));
      cell(tr, t('st_' + r.state), 'signoff-' + r.state);
      cell(tr, r.approved_by ? r.approved_by + ' ' + when(r.approved_ms) : '—');
      cell(tr, r.locked_by ? r.locked_by + ' ' + when(r.locked_ms) : '—');
      body.appendChild(tr);
    }
    if (!state.data.signoff.length) {
      const tr = document.createElement('tr');
      cell(tr, t('none')).colSpan = 5;
      body.appendChild(tr);
    }
  }

  /* A rate as its count over its base and a percent; "—" over none. */
  function rateText(num, den) {
    if (!den) {
      return num + '/' + den + ' —';
    }
    return num + '/' + den + ' ' + ((Math.floor((num * 2000 + den) / (2 * den))) / 10).toFixed(1) + '%';
  }

  /* The four rates of the matters selected (the stats total). */
  function renderRates() {
    const body = $('rates-body');
    if (!body) {
      return;
    }
    body.replaceChildren();
    const tot = state.data.total;
    const rows = [
      ['r_accept', 'accept', tot.accepted_timely, tot.acceptance_decided],
      ['r_conclude', 'conclude', tot.concluded_on_time, tot.conclusion_done],
      ['r_satisfaction', 'satisfaction', tot.satisfied, tot.evaluated],
      ['r_participation', 'participation', tot.evaluated, tot.concluded],
    ];
    for (const [key, id, num, den] of rows) {
      const tr = document.createElement('tr');
      tr.dataset.rate = id;
      cell(tr, t(key));
      cell(tr, num === undefined ? '—' : String(num), 'num');
      cell(tr, den === undefined ? '—' : String(den), 'num');
      cell(tr, num === undefined ? '—' : rateText(num, den), 'num').dataset.col = 'rate';
      body.appendChild(tr);
    }
  }

  /* The assessment table: per township and county department, in code
   * order (never ranked), the total last. */
  function renderAssessment() {
    const body = $('assessment-body');
    if (!body) {
      return;
    }
    body.replaceChildren();
    $('assessment-period').textContent = state.data.assessmentPeriod;
    for (const r of state.data.assessment) {
      const tr = document.createElement('tr');
      const total = r.unit === 'total';
      tr.dataset.unit = r.unit;
      cell(tr, total ? t('a_total') : (r.name && r.name !== r.unit ? r.name + ' ' + r.unit : place(r.unit)));
      cell(tr, total ? '' : t('a_' + r.kind));
      cell(tr, num(r.matters), 'num');
      cell(tr, num(r.persons), 'num');
      cell(tr, r.timely_acceptance, 'num');
      cell(tr, r.on_time_conclusion, 'num');
      cell(tr, r.satisfaction, 'num');
      cell(tr, r.participation, 'num');
      cell(tr, num(r.overdue_now), r.overdue_now > 0 ? 'num silent' : 'num');
      cell(tr, r.median_days_to_conclude === null ? '—' : Number(r.median_days_to_conclude).toFixed(1), 'num');
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
      cell(tr, place(l.child));
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
      o.textContent = place(code);
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
    /* the date inputs: YYYY-MM-DD text fields, placeholders by /date.js */
  }

  function render() {
    renderLabels();
    renderMe();
    renderCase();
    renderActs();
    renderMatters();
    if (!state.data || state.caseId) {
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
    renderRates();
    renderAssessment();
    renderSignoff();
    renderOverdue();
    renderSilent();
    renderUndelivered();
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

  $('q-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.q = $('q').value.trim();
    syncUrl();
    loadMatters(false);
  });
  $('m-clear').addEventListener('click', () => {
    state.extra = {};
    syncUrl();
    loadMatters(false);
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

  /* Who is logged in (issue 17): the name, the role, the logout form and
   * the action forms the role may post (the server checks again). */
  function renderMe() {
    const me = state.me;
    if (!me || !me.user) {
      $('me').hidden = true;
      return;
    }
    $('me').hidden = false;
    $('me-name').textContent = me.user;
    $('me-role').textContent = state.lang === 'zh' ? me.role_zh : me.role_en;
    $('me-audit').hidden = me.role !== 'admin';
    $('me-audit').href = '/audit' + (state.lang === 'en' ? '?lang=en' : '');
    $('me-appointments').href = '/appointments' + (state.lang === 'en' ? '?lang=en' : '');
    $('me-agenda').href = '/agenda' + (state.lang === 'en' ? '?lang=en' : '');
    $('logout-csrf').value = me.csrf;
  }

  function newKey() {
    const b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  /* The action forms of the case view and the sign-off table: each shown
   * when the role may post it (the server checks again). */
  const ACTS = [['assign-form', 'assign'], ['update-form', 'update'],
    ['extend-form', 'extend'], ['evaluate-form', 'evaluate'], ['correct-form', 'correct'],
    ['void-form', 'void'], ['lock-form', 'lock'], ['own-form', 'own']];

  /* A select of an enum's values in the page's language (data-enum), with
   * a first empty "(unchanged)" choice when data-blank is set. */
  function fillEnum(sel) {
    const keep = sel.value;
    sel.replaceChildren();
    if (sel.dataset.blank) {
      const o = document.createElement('option');
      o.value = '';
      o.textContent = t(sel.dataset.blank);
      sel.appendChild(o);
    }
    for (const [k, v] of Object.entries(I18N[state.lang][sel.dataset.enum] || {})) {
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
      const onCase = id !== 'lock-form';
      const may = state.me && state.me.actions.includes(action)
        && (onCase ? Boolean(state.kase) : true);
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

  /* Posts an action form; a refusal (its reason) is shown next to the form,
   * a success reloads the page the server sends back to. */
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

  async function loadMe() {
    try {
      state.me = await api('/api/me', new URLSearchParams());
    } catch (e) {
      state.me = null;
    }
    renderMe();
    renderActs();
  }

  renderLabels();
  syncUrl();
  loadMe();
  load();
})();
