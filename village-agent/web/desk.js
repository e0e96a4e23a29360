/* The officer's desk: the summary's character counter and the kind derived
 * from persons and channel, shown as the server derives them. The server
 * checks everything again; this only helps while typing. No inline script
 * (the page's Content-Security-Policy allows scripts from this server only). */
(function () {
  "use strict";
  var summary = document.getElementById("summary");
  var counter = document.getElementById("summary-count");
  if (summary && counter) {
    var max = parseInt(summary.getAttribute("data-max"), 10);
    var count = function () {
      var n = Array.from(summary.value).length;
      counter.textContent = n + " / " + max;
      counter.className = n > max ? "err" : "hint";
    };
    summary.addEventListener("input", count);
    count();
  }
  var persons = document.getElementById("persons");
  var kind = document.getElementById("kind-shown");
  if (persons && kind) {
    var show = function () {
      var n = parseInt(persons.value, 10);
      kind.textContent = n >= 5 ? kind.getAttribute("data-collective")
                                : kind.getAttribute("data-individual");
    };
    persons.addEventListener("input", show);
    show();
  }
  var print = document.getElementById("print");
  if (print) {
    print.addEventListener("click", function () { window.print(); });
  }
})();
