/* Date fields of the sanji pages (the officer's desk, the township page, the
 * county dashboard), typed and read as YYYY-MM-DD whatever the browser's
 * language: Chromium shows <input type=date> in the browser's locale
 * (12/06/2026), so every date is an <input type=text data-date> with the
 * pattern [0-9]{4}-[0-9]{2}-[0-9]{2}. This script gives it the placeholder
 * and title in the page's language (年-月-日 / YYYY-MM-DD; it follows the
 * <html lang> the page sets, also when the language is switched; the
 * browser shows the title when the pattern does not match), and refuses a
 * day that does not exist, or one after data-max, with a message in that
 * language (setCustomValidity: the form is not sent). The servers
 * check the same again. Compiled into each binary as /date.js. */
(function () {
  "use strict";
  var SEL = "input[data-date]";

  function zh() {
    return (document.documentElement.lang || "zh").indexOf("zh") === 0;
  }

  function real(s) {
    var m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(s);
    if (!m) {
      return false;
    }
    var y = +m[1], mo = +m[2], d = +m[3];
    var t = new Date(Date.UTC(y, mo - 1, d));
    return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
  }

  function check(el) {
    var v = el.value.trim();
    var max = el.getAttribute("data-max");
    var msg = "";
    /* a wrong shape is the pattern's (the browser says it, with the title) */
    if (v && /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(v) && !real(v)) {
      msg = zh() ? "请按 年-月-日 填写真实的日期，如 2026-12-06"
                 : "Type a real date as YYYY-MM-DD, e.g. 2026-12-06";
    } else if (v && max && v > max) {
      msg = zh() ? "日期不能晚于 " + max : "The date cannot be after " + max;
    }
    el.setCustomValidity(msg);
  }

  function label(el) {
    el.placeholder = zh() ? "年-月-日" : "YYYY-MM-DD";
    el.title = zh() ? "年-月-日，如 2026-12-06" : "YYYY-MM-DD, e.g. 2026-12-06";
    check(el);
  }

  function all() {
    Array.prototype.forEach.call(document.querySelectorAll(SEL), label);
  }

  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (ev) {
      if (ev.target && ev.target.matches && ev.target.matches(SEL)) {
        check(ev.target);
      }
    });
  });
  new MutationObserver(all).observe(document.documentElement,
                                    { attributes: true, attributeFilter: ["lang"] });
  all();
})();
