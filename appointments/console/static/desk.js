// The appointments desk: asks before a booking is marked no-show. Everything else is plain forms.
"use strict";

(() => {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
})();
