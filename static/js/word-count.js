// Live word count under each answer with a limit; the server enforces the limit either way.
(function () {
  function countWords(text) {
    var words = text.trim().split(/\s+/);
    return words[0] === "" ? 0 : words.length;
  }
  document.querySelectorAll("[data-word-count-for]").forEach(function (output) {
    var field = document.getElementById(output.getAttribute("data-word-count-for"));
    if (!field) { return; }
    var limit = parseInt(field.getAttribute("data-word-limit"), 10);
    // The page's language: the texts come translated from the template, with {placeholders}.
    function text(name, fallback, values) {
      var template = output.getAttribute("data-text-" + name) || fallback;
      return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
    }
    function update() {
      var words = countWords(field.value);
      if (limit) {
        var over = words > limit;
        output.textContent = text("of-limit", "{count} of {limit} words", {count: words, limit: limit}) +
          (over ? " " + text("over", "— {over} over the limit", {over: words - limit}) : "");
        output.classList.toggle("text-danger", over);
        output.classList.toggle("fw-semibold", over);
      } else {
        output.textContent = text("words", "{count} words", {count: words});
      }
    }
    field.addEventListener("input", update);
    update();
  });
})();
