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
    function update() {
      var words = countWords(field.value);
      if (limit) {
        var over = words > limit;
        output.textContent = words + " of " + limit + " words" + (over ? " — " + (words - limit) + " over the limit" : "");
        output.classList.toggle("text-danger", over);
        output.classList.toggle("fw-semibold", over);
      } else {
        output.textContent = words + " words";
      }
    }
    field.addEventListener("input", update);
    update();
  });
})();
