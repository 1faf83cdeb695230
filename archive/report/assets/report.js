// citearchive report: filter citations by state; bundled, no external scripts.
document.addEventListener("DOMContentLoaded", function () {
  var buttons = document.querySelectorAll(".filters button");
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      var want = button.getAttribute("data-filter");
      buttons.forEach(function (b) { b.classList.toggle("on", b === button); });
      document.querySelectorAll("tr.citation").forEach(function (row) {
        var show = want === "all" || row.classList.contains(want);
        row.style.display = show ? "" : "none";
      });
    });
  });
});
