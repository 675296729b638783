// Progressive enhancements of forms; every form works without them.
(function () {
  // A refused form: move focus to its error summary, so keyboard and screen-reader users
  // start from the list of problems (GOV.UK error summary).
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  // Save and return: warn before leaving a page whose form has changes not yet saved.
  var dirty = null;
  document.querySelectorAll("form[data-warn-unsaved]").forEach(function (form) {
    form.addEventListener("input", function () { dirty = form; });
    form.addEventListener("change", function () { dirty = form; });
    form.addEventListener("submit", function () { dirty = null; });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
