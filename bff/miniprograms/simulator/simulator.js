// The partner simulator: the app's side of the mini-program bridge, in a web page.
// Protocol: miniprograms/README.md ("The bridge protocol"). The bridge token stays
// in this page; the mini-program in the sandboxed frame only ever sees results.
(function () {
  "use strict";

  var BRIDGE = "/miniprogram/bridge/v1/";
  var CATALOG = "query { miniPrograms { appId name version missingConsent scopes { scope purpose granted } } }";
  var GRANT = "mutation($app: String!, $scopes: [String!]!) { grantMiniProgramConsent(appId: $app, scopes: $scopes) {" +
    " __typename ... on MiniProgramRefused { code message } } }";
  var REVOKE = "mutation($app: String!) { revokeMiniProgramConsent(appId: $app) {" +
    " __typename ... on MiniProgramRefused { code message } } }";
  var LAUNCH = "mutation($app: String!) { launchMiniProgram(appId: $app) { __typename" +
    " ... on MiniProgramLaunch { appId version entryUrl contentSecurityPolicy bridgeToken scopes missingConsent }" +
    " ... on MiniProgramRefused { code message } } }";

  // How each bridge API of the protocol maps onto the bridge's HTTP API.
  var ROUTES = {
    "user.info": function () { return { method: "GET", path: "user/info" }; },
    "user.phoneMasked": function () { return { method: "GET", path: "user/phone-masked" }; },
    "payment.request": function (p) {
      return {
        method: "POST", path: "payment/intents",
        body: { amount: { value: p.amount, currency: p.currency || "CNY" }, description: p.description },
      };
    },
    "storage.get": function (p) { return { method: "GET", path: "storage/" + encodeURIComponent(p.key || "") }; },
    "storage.set": function (p) {
      return { method: "PUT", path: "storage/" + encodeURIComponent(p.key || ""), body: { value: p.value } };
    },
    "storage.remove": function (p) {
      return { method: "DELETE", path: "storage/" + encodeURIComponent(p.key || "") };
    },
    "journey.open": function (p) { return { method: "POST", path: "journeys", body: { journeyType: p.journeyType } }; },
  };

  var el = function (id) { return document.getElementById(id); };
  var state = { catalog: [], launch: null, frame: null };

  function setStatus(text, isError) {
    el("status").textContent = text;
    el("status").className = isError ? "error" : "";
  }

  function graphql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json",
        Authorization: "Bearer " + el("token").value.trim(),
      },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    }).then(function (response) {
      return response.json().then(function (body) {
        if (body.errors && body.errors.length) {
          var first = body.errors[0];
          var code = (first.extensions && first.extensions.code) || response.status;
          throw new Error(code + ": " + first.message);
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return body.data;
      });
    });
  }

  function selected() {
    var appId = el("apps").value;
    return state.catalog.filter(function (app) { return app.appId === appId; })[0];
  }

  function renderCatalog() {
    var apps = el("apps");
    var keep = apps.value;
    apps.textContent = "";
    state.catalog.forEach(function (app) {
      var option = document.createElement("option");
      option.value = app.appId;
      option.textContent = app.name + " (" + app.appId + " " + app.version + ")";
      apps.appendChild(option);
    });
    if (keep) apps.value = keep;
    renderScopes();
  }

  function renderScopes() {
    var box = el("scopes");
    box.querySelectorAll("label").forEach(function (node) { node.remove(); });
    var app = selected();
    if (!app) return;
    app.scopes.forEach(function (scope) {
      var label = document.createElement("label");
      var box2 = document.createElement("input");
      box2.type = "checkbox";
      box2.value = scope.scope;
      box2.checked = scope.granted;
      label.appendChild(box2);
      label.appendChild(document.createTextNode(" " + scope.scope + " (" + scope.purpose + ")"
        + (scope.granted ? ", granted" : "")));
      label.appendChild(document.createElement("br"));
      box.appendChild(label);
    });
  }

  function loadCatalog() {
    return graphql(CATALOG).then(function (data) {
      state.catalog = data.miniPrograms;
      renderCatalog();
      setStatus(state.catalog.length + " mini-program(s) available to this customer");
    }).catch(function (error) { setStatus(error.message, true); });
  }

  function grant() {
    var app = selected();
    if (!app) return Promise.resolve();
    var scopes = Array.prototype.map.call(
      el("scopes").querySelectorAll("input:checked"), function (box) { return box.value; });
    return graphql(GRANT, { app: app.appId, scopes: scopes }).then(function (data) {
      var result = data.grantMiniProgramConsent;
      if (result.__typename === "MiniProgramRefused") throw new Error(result.code + ": " + result.message);
      return loadCatalog().then(function () {
        setStatus("granted " + (scopes.join(", ") || "nothing") + " to " + app.appId);
      });
    }).catch(function (error) { setStatus(error.message, true); });
  }

  function revoke() {
    var app = selected();
    if (!app) return Promise.resolve();
    return graphql(REVOKE, { app: app.appId }).then(function () {
      return loadCatalog().then(function () {
        setStatus("revoked every scope of " + app.appId + "; its live bridge tokens stopped working");
      });
    }).catch(function (error) { setStatus(error.message, true); });
  }

  function showLaunch(launch) {
    var info = el("launch-info");
    info.textContent = "";
    [["Version", launch.version], ["Scopes in the bridge token", launch.scopes.join(" ") || "(none)"],
      ["Not consented", launch.missingConsent.join(" ") || "(none)"],
      ["Content-Security-Policy", launch.contentSecurityPolicy]].forEach(function (pair) {
      var dt = document.createElement("dt");
      dt.textContent = pair[0];
      var dd = document.createElement("dd");
      dd.textContent = pair[1];
      info.appendChild(dt);
      info.appendChild(dd);
    });
  }

  function launch() {
    var app = selected();
    if (!app) return Promise.resolve();
    return graphql(LAUNCH, { app: app.appId }).then(function (data) {
      var result = data.launchMiniProgram;
      if (result.__typename === "MiniProgramRefused") throw new Error(result.code + ": " + result.message);
      state.launch = result;
      showLaunch(result);
      var frame = document.createElement("iframe");
      // allow-scripts without allow-same-origin: the frame gets an opaque origin, so it
      // cannot read this page's DOM, cookies or storage, nor call the BFF as this page.
      frame.setAttribute("sandbox", "allow-scripts");
      frame.setAttribute("referrerpolicy", "no-referrer");
      frame.title = app.name;
      frame.src = result.entryUrl;
      var device = el("device");
      device.textContent = "";
      device.appendChild(frame);
      state.frame = frame;
      setStatus("launched " + result.appId + " " + result.version);
    }).catch(function (error) { setStatus(error.message, true); });
  }

  function logCall(call, outcome) {
    var item = document.createElement("li");
    item.dataset.api = call.api;
    item.dataset.ok = String(outcome.ok);
    if (!outcome.ok) item.dataset.code = outcome.error.code;
    item.textContent = call.api + " " + JSON.stringify(call.params || {}) + " -> "
      + JSON.stringify(outcome.ok ? outcome.result : outcome.error);
    el("calls").appendChild(item);
  }

  function relay(call) {
    var route = ROUTES[call.api];
    if (!route) {
      return Promise.resolve({ ok: false, error: { code: "BRIDGE_API_UNKNOWN", message: call.api + " is not a bridge API of this host" } });
    }
    var request = route(call.params && typeof call.params === "object" ? call.params : {});
    var init = { method: request.method, headers: { Authorization: "Bearer " + state.launch.bridgeToken } };
    if (request.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(request.body);
    }
    return fetch(BRIDGE + encodeURIComponent(state.launch.appId) + "/" + request.path, init)
      .then(function (response) {
        if (response.status === 204) return { ok: true, result: null };
        return response.json().then(function (body) {
          if (response.ok) return { ok: true, result: body };
          return { ok: false, error: { code: body.code || "HTTP_" + response.status, message: body.detail || "" } };
        });
      })
      .catch(function (error) { return { ok: false, error: { code: "BRIDGE_UNREACHABLE", message: String(error) } }; });
  }

  window.addEventListener("message", function (event) {
    // Only the mini-program this page launched may call the bridge.
    if (!state.frame || event.source !== state.frame.contentWindow || !state.launch) return;
    var call = event.data;
    if (!call || call.type !== "bridge-call" || typeof call.id !== "string" || typeof call.api !== "string") return;
    var target = event.source;
    relay(call).then(function (outcome) {
      logCall(call, outcome);
      var answer = { type: "bridge-result", id: call.id, ok: outcome.ok };
      if (outcome.ok) answer.result = outcome.result; else answer.error = outcome.error;
      // "*": a sandboxed frame's origin is opaque ("null"); the source check above is the guard.
      target.postMessage(answer, "*");
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    // A token may come in the fragment (#token=...): fragments never reach a server.
    var match = /(?:^|[#&])token=([^&]+)/.exec(window.location.hash);
    if (match) {
      el("token").value = decodeURIComponent(match[1]);
      history.replaceState(null, "", window.location.pathname);
    }
    el("load").addEventListener("click", loadCatalog);
    el("apps").addEventListener("change", renderScopes);
    el("grant").addEventListener("click", grant);
    el("revoke").addEventListener("click", revoke);
    el("launch").addEventListener("click", launch);
    if (el("token").value) loadCatalog();
  });
})();
