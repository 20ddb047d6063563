// Repair ticket with a photo.
(function () {
  var form = document.getElementById("ticket");
  var status = document.getElementById("status");
  var preview = document.getElementById("preview");
  document.getElementById("photo").addEventListener("change", function (event) {
    var file = event.target.files[0];
    if (!file) { preview.hidden = true; return; }
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    park.show(status, "Sending…");
    park.send("/v1/repair-tickets", new FormData(form)).then(function (ticket) {
      // Remembered in the host's storage so the next visit can show the ticket's progress.
      return window.bridge.call("storage.set", { key: "lastTicket", value: ticket.id || "" }).then(function () {
        park.show(status, "Ticket " + (ticket.id || "") + " sent. The park office will contact you.");
      });
    }).catch(function (error) {
      park.show(status, "Could not send the ticket: " + (error.message || error.code), true);
    });
  });
})();
