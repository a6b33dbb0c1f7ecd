// The record page's print button: it needs script, so the page shows it only when this runs
// (without it, the browser's own print command prints the same one-page layout).
(function () {
  "use strict";
  var button = document.getElementById("print");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
