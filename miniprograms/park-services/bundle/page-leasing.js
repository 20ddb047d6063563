// Leasing enquiry, name filled in from user.info.
(function () {
  var form = document.getElementById("enquiry");
  var status = document.getElementById("status");
  park.greet(document.createElement("span")).then(function (user) {
    if (user.name && !form.name.value) form.name.value = user.name;
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    park.show(status, "Sending…");
    park.send("/v1/leasing-enquiries", new FormData(form)).then(function () {
      park.show(status, "Thank you. A leasing manager will call you within two working days.");
    }).catch(function (error) {
      park.show(status, "Could not send the enquiry: " + (error.message || error.code), true);
    });
  });
})();
