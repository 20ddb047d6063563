// The host bridge, over window.postMessage (protocol: miniprograms/README.md).
// bridge.call(api, params) returns a Promise of the result, or rejects with
// {code, message} when the host refuses or does not answer in time.
(function () {
  "use strict";
  var pending = {};
  var counter = 0;
  var TIMEOUT_MS = 15000;

  window.addEventListener("message", function (event) {
    // Only the embedding host answers bridge calls.
    if (event.source !== window.parent) return;
    var message = event.data;
    if (!message || message.type !== "bridge-result" || !pending[message.id]) return;
    var call = pending[message.id];
    delete pending[message.id];
    clearTimeout(call.timer);
    if (message.ok) call.resolve(message.result);
    else call.reject(message.error || { code: "BRIDGE_ERROR", message: "the host refused the call" });
  });

  function call(api, params) {
    counter += 1;
    var id = "c" + counter + "-" + Date.now().toString(36);
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        delete pending[id];
        reject({ code: "BRIDGE_TIMEOUT", message: api + " got no answer from the host" });
      }, TIMEOUT_MS);
      pending[id] = { resolve: resolve, reject: reject, timer: timer };
      window.parent.postMessage({ type: "bridge-call", id: id, api: api, params: params || {} }, "*");
    });
  }

  window.bridge = { call: call };
})();
