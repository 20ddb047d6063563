// Shared by the park services pages: greeting, the park API and status messages.
(function () {
  "use strict";
  var API = "https://api.parkservices.example.com";

  function show(element, text, isError) {
    element.textContent = text;
    element.className = isError ? "status error" : "status";
  }

  function greet(element) {
    // user.info answers only the fields the customer consented to (profile.name here).
    return window.bridge.call("user.info", {}).then(function (user) {
      if (user && user.name) element.textContent = "Park services for " + user.name;
      return user || {};
    }, function () { return {}; });
  }

  function send(path, body) {
    // The only origin the manifest declares in networkDomains, so the host's CSP allows it.
    return fetch(API + path, { method: "POST", body: body }).then(function (response) {
      if (!response.ok) throw new Error("the park office answered " + response.status);
      return response.json();
    });
  }

  window.park = { greet: greet, send: send, show: show };
})();
