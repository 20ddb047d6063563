// Home page: greeting and call-back request.
(function () {
  var status = document.getElementById("status");
  park.greet(document.getElementById("greeting"));
  document.getElementById("callback").addEventListener("click", function () {
    // The masked number is enough for the customer to recognise; the park office
    // arranges the call through the bank, never with the full number.
    window.bridge.call("user.phoneMasked", {}).then(function (answer) {
      park.show(status, "The park office will call you back on " + answer.phoneMasked + ".");
    }, function (error) {
      if (error.code === "BRIDGE_SCOPE_MISSING") {
        park.show(status, "Allow Park services to see your masked phone number in the app to be called back.", true);
      } else {
        park.show(status, "Could not ask for a call back: " + (error.message || error.code), true);
      }
    });
  });
})();
