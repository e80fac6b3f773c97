// The dashboard's only script: "Copy" buttons next to secrets. Everything works without it
// (the secrets are in read-only fields that can be selected and copied by hand).
"use strict";
(function () {
  var buttons = document.querySelectorAll("button.copy[data-copy]");
  if (!navigator.clipboard) {
    return;
  }
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      }, function () {
        field.select();
      });
    });
  });
})();
