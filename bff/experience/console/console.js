// The experience console: segments and their profiles, switching with confirmation, history with
// rollback, and a preview of a segment's home screen drawn with its profile's presentation tokens.
// Everything comes from the experience admin API (docs/experience-admin-api.md) with the admin token
// pasted in; the token stays in this page's memory. Text is only ever set as textContent, and styles
// only through CSSOM (element.style), which the page's CSP (style-src 'self') allows.
(function () {
  "use strict";

  var API = "/admin/v1/experience";
  var PREVIEW_ATTEMPTS = 20; // a BFF serves a publish within a second; poll for it up to ~4 s
  var PREVIEW_RETRY_MS = 200;
  var SUMMARY_LINES = 4; // of a history entry's changes (a seed lists every file)

  // Bank functions a tile can open (experience/README.md), as an app labels them.
  var FUNCTION_NAMES = {
    transfer: "Transfer", accounts: "Accounts", "bill-payment": "Bill payment", cards: "Cards",
    loans: "Loans", wealth: "Wealth", deposits: "Deposits", "scan-to-pay": "Scan to pay",
    statements: "Statements", "phone-top-up": "Phone top-up", pension: "Pension",
    "social-security": "Social security", "agri-loans": "Farm loans", "branch-finder": "Branch finder",
  };
  // The app's bottom bar: a simplified navigation keeps only what an elder customer needs.
  var NAVIGATION = { full: ["Home", "Wealth", "Services", "Messages", "Me"], simplified: ["Home", "Help", "Me"] };
  var HELP_LABELS = { chat: "Chat with a person", callback: "Ask for a call back", phone: "Call us: 96588" };

  var el = function (id) { return document.getElementById(id); };
  var state = {
    token: "",
    experience: null, // GET /admin/v1/experience
    previewTicket: 0, // only the newest preview request may draw
    previewShown: false,
    pendingConfirm: null,
    busy: false,
  };

  // --- the admin API ------------------------------------------------------------------------------

  function ApiError(status, body) {
    var problem = body && typeof body === "object" ? body : {};
    this.status = status;
    this.code = problem.code || (status ? "HTTP_" + status : "NETWORK");
    this.detail = problem.detail || problem.title || (status ? "HTTP " + status : "the BFF did not answer");
    // `problems`: experience files that fail the checks; `errors`: a request body of the wrong shape.
    this.problems = [].concat(problem.problems || [], problem.errors || []);
    this.currentVersion = problem.currentVersion; // on a 412: the version to read before trying again
    this.message = this.code + ": " + this.detail;
  }
  ApiError.prototype = Object.create(Error.prototype);

  function api(method, path, options) {
    options = options || {};
    var headers = { Authorization: "Bearer " + state.token, Accept: "application/json" };
    var init = { method: method, headers: headers, cache: "no-store" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    if (options.ifMatch !== undefined) headers["If-Match"] = '"' + options.ifMatch + '"';
    return fetch(API + path, init).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (ignored) { body = null; }
        if (!response.ok) throw new ApiError(response.status, body);
        return body;
      });
    }, function () { throw new ApiError(0, null); });
  }

  // --- messages -----------------------------------------------------------------------------------

  function setStatus(text, isError) {
    el("status").textContent = text;
    el("status").className = isError ? "error" : "";
  }

  function showProblems(problems) {
    var list = el("problems");
    list.textContent = "";
    (problems || []).forEach(function (problem) {
      var item = document.createElement("li");
      item.textContent = [problem.file, problem.path, problem.message].filter(Boolean).join(" ");
      list.appendChild(item);
    });
  }

  function clearMessages(text) {
    setStatus(text || "", false);
    showProblems([]);
  }

  // One place that explains a refused call: a refused token ends the session.
  function fail(error) {
    if (error.status === 401) {
      logout("The BFF refused this token (expired, or not issued by the bank's identity provider). " +
        "Log in again with a fresh admin token.");
    } else if (error.status === 403) {
      logout("This token has no admin role. The console is for UX teams holding the admin role.");
    } else if (!state.experience) {
      setLoginStatus(error.message || String(error)); // not logged in yet: the workspace is hidden
    } else if (error.problems && error.problems.length) {
      // The detail repeats every problem; the list below says it once, one problem a line.
      setStatus(error.code + ": refused with " + error.problems.length + " problem(s); nothing was published.", true);
      showProblems(error.problems);
    } else {
      setStatus(error.message || String(error), true);
    }
  }

  // --- session ------------------------------------------------------------------------------------

  function showSession(signedIn) {
    el("login").hidden = signedIn;
    el("workspace").hidden = !signedIn;
    el("session").hidden = !signedIn;
    document.body.dataset.session = signedIn ? "in" : "out";
  }

  function login() {
    var token = el("token").value.trim();
    el("token").value = "";
    if (!token) {
      setLoginStatus("Paste an admin access token first.");
      return Promise.resolve();
    }
    state.token = token;
    setLoginStatus("Checking the token…");
    return api("GET", "").then(function (experience) {
      setLoginStatus("");
      showSession(true);
      applyExperience(experience);
      clearMessages("Logged in. Version " + experience.version + " is live.");
      return loadHistory();
    }).catch(fail);
  }

  function logout(message) {
    state.token = "";
    state.experience = null;
    state.previewShown = false;
    state.previewTicket += 1;
    resetPreview();
    showSession(false);
    setLoginStatus(message || "Logged out.");
  }

  function setLoginStatus(text) {
    el("login-status").textContent = text;
  }

  // The state, once this BFF serves version `atLeast` (it may trail a publish elsewhere by a second).
  function reload(atLeast, attempts) {
    if (attempts === undefined) attempts = PREVIEW_ATTEMPTS;
    return api("GET", "").then(function (experience) {
      if ((experience.version || 0) < (atLeast || 0) && attempts > 1) {
        return pause(PREVIEW_RETRY_MS).then(function () { return reload(atLeast, attempts - 1); });
      }
      applyExperience(experience);
      return loadHistory();
    });
  }

  function pause(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  // --- segments -----------------------------------------------------------------------------------

  function applyExperience(experience) {
    state.experience = experience;
    el("published").textContent = "Version " + experience.version + ", published by " +
      (experience.publishedBy || "?") + " at " + when(experience.publishedAt);
    el("published").dataset.version = String(experience.version);
    renderSegments();
    renderPreviewChoices();
  }

  function profileName(id) {
    var found = (state.experience.profiles || []).filter(function (p) { return p.id === id; })[0];
    return found && found.name ? found.name + " (" + id + ")" : id;
  }

  function rolloutText(rollout) {
    if (!rollout) return "none";
    return rollout.percent + "% get " + profileName(rollout.profile);
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function renderSegments() {
    var body = el("segments").querySelector("tbody");
    body.textContent = "";
    // One entry per segment rule: `rule` is the rule's id (what a switch names), `id` its segment's.
    state.experience.segments.forEach(function (segment) {
      var row = document.createElement("tr");
      row.dataset.rule = segment.rule;
      row.dataset.profile = segment.profile;
      cell(row, segment.rule, "code");
      cell(row, segment.id, "");
      cell(row, segment.description || "", "description");
      cell(row, segment.elder ? "yes" : "", "");
      cell(row, profileName(segment.profile), "profile");
      cell(row, rolloutText(segment.rollout), "rollout");
      row.appendChild(switchCell(segment));
      body.appendChild(row);
    });
  }

  function switchCell(segment) {
    var td = document.createElement("td");
    td.className = "switch-cell";
    var select = document.createElement("select");
    select.className = "switch-profile";
    select.setAttribute("aria-label", "Profile for " + segment.rule);
    state.experience.profiles.forEach(function (profile) {
      var option = document.createElement("option");
      option.value = profile.id;
      option.textContent = profileName(profile.id) + (profile.elderFriendly ? ", elder-friendly" : "");
      select.appendChild(option);
    });
    select.value = segment.profile;
    var percent = document.createElement("input");
    percent.type = "number";
    percent.className = "switch-percent";
    percent.min = "0";
    percent.max = "100";
    percent.step = "0.01";
    percent.placeholder = "all";
    percent.setAttribute("aria-label", "Rollout percent for " + segment.rule + " (empty: everyone)");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "switch";
    button.textContent = "Switch…";
    button.addEventListener("click", function () {
      switchSegment(segment.rule, select.value, percent.value.trim());
    });
    td.appendChild(select);
    td.appendChild(percent);
    td.appendChild(button);
    return td;
  }

  function switchSegment(ruleId, profile, percent) {
    if (state.busy) return Promise.resolve();
    var version = state.experience.version;
    var request = { profile: profile };
    if (percent !== "") request.rolloutPercent = Number(percent);
    var path = "/segments/" + encodeURIComponent(ruleId) + "/profile";
    var change = percent !== "" ? "a " + percent + "% rollout of " + profileName(profile)
      : profileName(profile);
    state.busy = true;
    clearMessages("Checking the switch of " + ruleId + " to " + change + "…");
    return api("POST", path, { body: Object.assign({ dryRun: true }, request), ifMatch: version })
      .then(function (check) {
        if (check.valid === false) {
          setStatus("This switch would not pass the checks; nothing was published.", true);
          showProblems(check.problems);
          return null;
        }
        return confirmChange({
          title: "Switch " + ruleId + " to " + change + "?",
          summary: "Publishing makes a new version after version " + version + "; every BFF shows it " +
            "within a second. It can be rolled back from the history.",
          diff: check.diff,
          ok: "Publish",
        });
      })
      .then(function (confirmed) {
        if (confirmed === null) return null;
        if (!confirmed) {
          setStatus("Cancelled; nothing was published.");
          return null;
        }
        return api("POST", path, { body: request, ifMatch: version }).then(function (experience) {
          return published(experience, "Rule " + ruleId + " now shows " + change + " (version " +
            experience.version + ").");
        });
      })
      .catch(changeFailed)
      .then(function () { state.busy = false; });
  }

  // A 412: someone published between our load and our call; show their version, publish nothing.
  function changeFailed(error) {
    if (error.status !== 412) return fail(error);
    return reload(error.currentVersion).then(function () {
      setStatus("Someone else published first (" + error.detail + "). The segments and history are " +
        "reloaded to version " + state.experience.version + "; check them and try again.", true);
      return state.previewShown ? loadPreview(state.experience.version) : null;
    }, fail);
  }

  function published(experience, message) {
    applyExperience(experience);
    clearMessages(message);
    return Promise.all([
      loadHistory().catch(fail),
      state.previewShown ? loadPreview(experience.version) : null,
    ]);
  }

  // --- history and rollback -----------------------------------------------------------------------

  function loadHistory() {
    return api("GET", "/history?limit=50").then(function (answer) { renderHistory(answer.versions || []); });
  }

  function renderHistory(versions) {
    var list = el("history");
    list.textContent = "";
    var current = state.experience ? state.experience.version : null;
    versions.forEach(function (entry) {
      var item = document.createElement("li");
      item.dataset.version = String(entry.version);
      item.dataset.action = entry.action || "";
      var title = document.createElement("strong");
      title.textContent = "Version " + entry.version + " · " + (entry.action || "?") +
        (entry.version === current ? " · live" : "");
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = " by " + (entry.actor || "?") + " at " + when(entry.at);
      item.appendChild(title);
      item.appendChild(meta);
      summaryLines(entry.summary).concat(entry.note ? ["Note: " + entry.note] : []).forEach(function (text) {
        var line = document.createElement("div");
        line.className = "detail";
        line.textContent = text;
        item.appendChild(line);
      });
      if (entry.version !== current) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "rollback";
        button.textContent = "Roll back to version " + entry.version + "…";
        button.addEventListener("click", function () { rollback(entry.version); });
        item.appendChild(button);
      }
      list.appendChild(item);
    });
  }

  // A history entry's summary: its list of changes in words, or whatever else it says.
  function summaryLines(summary) {
    if (!summary) return [];
    if (typeof summary === "string") return [summary];
    if (Array.isArray(summary)) return summary.map(String);
    if (Array.isArray(summary.changes)) {
      var lines = summary.changes.map(function (change) {
        return typeof change === "string" ? change : JSON.stringify(change);
      });
      if (lines.length > SUMMARY_LINES) {
        lines = lines.slice(0, SUMMARY_LINES).concat(["… and " + (lines.length - SUMMARY_LINES) + " more"]);
      }
      return lines.length ? lines : ["no change"];
    }
    return [JSON.stringify(summary)];
  }

  // Times come as RFC 3339 text or epoch seconds.
  function when(value) {
    if (value === undefined || value === null || value === "") return "?";
    if (typeof value === "number") return new Date(value * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    return String(value);
  }

  function rollback(toVersion) {
    if (state.busy) return Promise.resolve();
    var version = state.experience.version;
    state.busy = true;
    clearMessages("Comparing version " + toVersion + " with the live version " + version + "…");
    return api("GET", "/versions/" + encodeURIComponent(toVersion) + "/files")
      .then(function (old) { return api("POST", "/dry-run", { body: { files: old.files } }); })
      .then(function (check) {
        return confirmChange({
          title: "Roll back to version " + toVersion + "?",
          summary: "Version " + toVersion + "'s files are published again as a new version after " +
            "version " + version + ".",
          diff: check.diff,
          ok: "Roll back",
        });
      })
      .then(function (confirmed) {
        if (!confirmed) {
          setStatus("Cancelled; nothing was rolled back.");
          return null;
        }
        return api("POST", "/rollback", { body: { toVersion: toVersion }, ifMatch: version })
          .then(function (experience) {
            return published(experience, "Rolled back to version " + toVersion + "'s experience (now version " +
              experience.version + ").");
          });
      })
      .catch(changeFailed)
      .then(function () { state.busy = false; });
  }

  // --- the confirmation dialog --------------------------------------------------------------------

  function confirmChange(options) {
    el("confirm-title").textContent = options.title;
    el("confirm-summary").textContent = options.summary;
    el("confirm-ok").textContent = options.ok;
    renderDiff(el("confirm-diff"), options.diff);
    return new Promise(function (resolve) {
      state.pendingConfirm = resolve;
      el("confirm").showModal();
      el("confirm-cancel").focus();
    });
  }

  function answerConfirm(answer) {
    var resolve = state.pendingConfirm;
    state.pendingConfirm = null;
    if (el("confirm").open) el("confirm").close();
    if (resolve) resolve(answer);
  }

  function rolloutLabel(rollout) {
    return rollout ? rollout.percent + "% " + rollout.profile : "no rollout";
  }

  function diffLines(diff) {
    var lines = [];
    (diff && diff.segments || []).forEach(function (change) {
      var before = change.before || {};
      var after = change.after || {};
      var parts = [];
      if (before.profile !== after.profile) {
        parts.push("profile " + (before.profile || "none") + " → " + (after.profile || "none"));
      }
      if (JSON.stringify(before.rollout || null) !== JSON.stringify(after.rollout || null)) {
        parts.push("rollout " + rolloutLabel(before.rollout) + " → " + rolloutLabel(after.rollout));
      }
      if (!change.before) parts = ["added, showing " + (after.profile || "?")];
      if (!change.after) parts = ["removed"];
      var others = (change.changes || []).filter(function (aspect) {
        return ["profile", "rollout", "added", "removed"].indexOf(aspect) < 0;
      });
      if (others.length) parts.push(others.join(", ") + " changed");
      lines.push("Rule " + change.rule + ": " + (parts.join("; ") || "changed"));
    });
    [["profiles", "Profile"], ["overrides", "Override"]].forEach(function (kind) {
      var part = (diff && diff[kind[0]]) || {};
      ["added", "removed", "changed"].forEach(function (how) {
        var names = (part[how] || []).map(function (x) { return typeof x === "string" ? x : JSON.stringify(x); });
        if (names.length) lines.push(kind[1] + "s " + how + ": " + names.join(", "));
      });
    });
    return lines;
  }

  function renderDiff(list, diff) {
    list.textContent = "";
    var lines = diffLines(diff);
    if (!lines.length) lines = ["No difference from the live version."];
    lines.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
  }

  // --- preview ------------------------------------------------------------------------------------

  function renderPreviewChoices() {
    var select = el("preview-segment");
    var keep = select.value;
    select.textContent = "";
    state.experience.segments.forEach(function (segment) {
      var option = document.createElement("option");
      option.value = segment.rule;
      option.textContent = segment.rule + " (segment " + segment.id + ", " + segment.profile + ")";
      select.appendChild(option);
    });
    if (keep) select.value = keep;
  }

  function showPreview() {
    if (!el("preview-segment").value) return Promise.resolve();
    state.previewShown = true;
    clearMessages();
    return loadPreview(0);
  }

  // The preview of version `atLeast` or newer: right after a publish a BFF may still show the one before.
  function loadPreview(atLeast) {
    var query = new URLSearchParams({ segment: el("preview-segment").value });
    var customer = el("preview-customer").value.trim();
    var appVersion = el("preview-app-version").value.trim();
    if (customer) query.set("customer", customer);
    if (appVersion) query.set("appVersion", appVersion);
    var ticket = ++state.previewTicket;
    el("preview").dataset.loading = "true";
    return fetchPreview(query.toString(), atLeast, PREVIEW_ATTEMPTS).then(function (preview) {
      if (ticket !== state.previewTicket) return;
      renderPreview(preview);
    }).catch(function (error) {
      if (ticket === state.previewTicket) fail(error);
    });
  }

  function fetchPreview(query, atLeast, attempts) {
    return api("GET", "/preview?" + query).then(function (preview) {
      if ((preview.experienceVersion || 0) >= atLeast || attempts <= 1) return preview;
      return pause(PREVIEW_RETRY_MS).then(function () { return fetchPreview(query, atLeast, attempts - 1); });
    });
  }

  function px(value, otherwise) {
    var number = Number(value);
    return (isFinite(number) && number > 0 ? number : otherwise) + "px";
  }

  // The profile's tokens as CSS custom properties on the preview root; console.css draws with them.
  function applyTokens(root, p) {
    var scale = Number(p.fontScale) || 1;
    var body = Number(p.bodySize) || 15;
    var headline = Number(p.headlineSize) || 22;
    var tokens = {
      "--xp-body": px(body, 15),
      "--xp-headline": px(headline, 22),
      "--xp-title": px(Math.round((body + headline) / 2), 18),
      "--xp-secondary-size": px(Math.round(13 * scale), 13),
      "--xp-tile-size": px(Math.round(12 * scale), 12),
      "--xp-line": String(Number(p.lineSpacing) || 1.3),
      "--xp-text": p.textColor || "#000000",
      "--xp-secondary": p.secondaryTextColor || p.textColor || "#000000",
      "--xp-background": p.backgroundColor || "#FFFFFF",
      "--xp-accent": p.accentColor || "#C8102E",
      "--xp-target-width": px(p.touchTargetWidth, 44),
      "--xp-target-height": px(p.touchTargetHeight, 44),
      "--xp-columns": String(Number(p.gridColumns) || 4),
    };
    Object.keys(tokens).forEach(function (name) { root.style.setProperty(name, tokens[name]); });
  }

  function resetPreview() {
    var root = el("preview");
    root.textContent = "";
    root.removeAttribute("style");
    Object.keys(root.dataset).forEach(function (key) { delete root.dataset[key]; });
    root.appendChild(node("p", "empty", "Pick a segment and show its preview."));
    el("explanation").textContent = "";
    el("tokens").textContent = "";
    el("history").textContent = "";
  }

  function renderPreview(preview) {
    var root = el("preview");
    var p = preview.presentation || {};
    root.textContent = "";
    delete root.dataset.loading;
    root.dataset.profile = preview.profile || "";
    root.dataset.segment = preview.segment || "";
    root.dataset.rule = preview.rule || "";
    root.dataset.version = String(preview.experienceVersion);
    root.dataset.contrast = p.contrast || "standard";
    root.dataset.motion = p.motion || "full";
    root.dataset.navigation = p.navigation || "full";
    root.dataset.autoplay = String(Boolean(p.autoplay));
    root.dataset.dataSaver = String(Boolean(p.dataSaver));
    applyTokens(root, p);
    var top = node("header", "xp-top");
    top.appendChild(node("h2", "xp-headline", "Home"));
    top.appendChild(node("p", "xp-secondary", profileName(preview.profile) + " · " + (preview.segment || "")));
    var badges = node("div", "xp-badges");
    if (p.contrast === "high") badges.appendChild(node("span", "xp-tag", "High contrast"));
    if (p.dataSaver) badges.appendChild(node("span", "xp-tag", "Data saver"));
    if (p.autoplay) badges.appendChild(node("span", "xp-tag", "Autoplay"));
    if (badges.childNodes.length) top.appendChild(badges);
    root.appendChild(top);
    (preview.sections || []).forEach(function (section) { root.appendChild(renderSection(section)); });
    var nav = node("nav", "xp-nav");
    (NAVIGATION[p.navigation] || NAVIGATION.full).forEach(function (item) { nav.appendChild(node("span", "", item)); });
    root.appendChild(nav);
    renderExplanation(preview.explanation || []);
    renderTokens(p);
  }

  function renderExplanation(lines) {
    var list = el("explanation");
    list.textContent = "";
    lines.forEach(function (line) { list.appendChild(node("li", "", line)); });
  }

  function renderTokens(p) {
    var list = el("tokens");
    list.textContent = "";
    Object.keys(p).forEach(function (name) {
      list.appendChild(node("dt", "", name));
      list.appendChild(node("dd", "", String(p[name])));
    });
  }

  function node(tag, className, text) {
    var made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined && text !== null) made.textContent = text;
    return made;
  }

  function renderSection(section) {
    var box = node("section", "xp-section");
    var renderAs = section.renderAs || section.component;
    box.dataset.section = section.id;
    box.dataset.component = section.component;
    box.dataset.renderAs = renderAs;
    if (section.firstScreen) box.dataset.firstScreen = "true";
    box.appendChild(node("h3", "xp-title", section.title || section.component));
    var draw = RENDERERS[renderAs];
    if (section.unavailable) {
      box.dataset.unavailable = "true";
      box.appendChild(node("p", "xp-text", section.fallbackText || "Not available right now."));
      box.appendChild(node("p", "xp-secondary", "(" + (section.unavailable.service || "a service") +
        " did not answer; the app shows the fallback text)"));
    } else if (!draw || !section.data) {
      box.dataset.fallback = "true";
      box.appendChild(node("p", "xp-text", section.fallbackText || "(" + renderAs + ")"));
    } else {
      draw(box, section.data, section);
    }
    return box;
  }

  function money(value) {
    if (!value || value.amount === undefined) return "••••";
    var amount = Number(value.amount);
    try {
      return new Intl.NumberFormat("en", { style: "currency", currency: value.currency || "CNY" }).format(amount);
    } catch (ignored) {
      return value.amount + " " + (value.currency || "");
    }
  }

  function row(primary, secondary, trailing) {
    var line = node("div", "xp-row");
    var left = node("div", "xp-row-main");
    left.appendChild(node("p", "xp-text", primary));
    if (secondary) left.appendChild(node("p", "xp-secondary", secondary));
    line.appendChild(left);
    if (trailing !== undefined && trailing !== null) line.appendChild(node("p", "xp-amount", trailing));
    return line;
  }

  function empty(box, text) {
    box.appendChild(node("p", "xp-secondary", text));
  }

  function actionButton(box, icon, label, className) {
    var button = node("button", "xp-action" + (className ? " " + className : ""));
    button.type = "button";
    if (icon) button.appendChild(node("span", "xp-icon", icon));
    button.appendChild(node("span", "xp-text", label));
    box.appendChild(button);
    return button;
  }

  function duration(seconds) {
    if (!seconds) return "";
    var s = Math.round(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  var RENDERERS = {
    accountSummary: function (box, data) {
      (data.accounts || []).forEach(function (account) {
        box.appendChild(row(account.name, [account.kind, account.maskedNumber].filter(Boolean).join(" · "),
          money(account.balance)));
      });
      if (!(data.accounts || []).length) empty(box, "No accounts");
      var more = (data.totalAccounts || 0) - (data.accounts || []).length;
      if (more > 0) empty(box, "and " + more + " more");
    },
    miniProgramGrid: function (box, data) {
      var grid = node("div", "xp-grid");
      (data.tiles || []).forEach(function (tile) {
        var button = node("button", "xp-tile" + (tile.large ? " xp-tile-large" : ""));
        button.type = "button";
        button.dataset.kind = tile.kind;
        button.dataset.id = tile.id;
        var label = tile.kind === "function" ? FUNCTION_NAMES[tile.id] || tile.label || tile.id
          : tile.label || tile.id;
        button.appendChild(node("span", "xp-tile-icon", label.charAt(0).toUpperCase()));
        button.appendChild(node("span", "xp-tile-label", label));
        grid.appendChild(button);
      });
      box.appendChild(grid);
      if (!(data.tiles || []).length) empty(box, "No services to show");
    },
    banner: function (box, data) {
      (data.items || []).forEach(function (item) {
        var banner = node("div", "xp-banner");
        banner.appendChild(node("p", "xp-text", item.title));
        if (item.marketing) banner.appendChild(node("span", "xp-tag", "Ad"));
        box.appendChild(banner);
      });
      if (!(data.items || []).length) empty(box, "No highlights today");
    },
    popup: function (box, data) {
      var item = (data.items || [])[0];
      var card = node("div", "xp-popup");
      card.appendChild(node("p", "xp-text", item ? item.title : "(a notice pops up here)"));
      actionButton(card, "", "Close", "xp-secondary-action");
      box.appendChild(card);
    },
    shortVideoFeed: function (box, data) {
      var strip = node("div", "xp-strip");
      (data.items || []).forEach(function (item) {
        var video = node("div", "xp-video");
        video.appendChild(node("span", "xp-icon", "▶"));
        video.appendChild(node("p", "xp-text", item.title));
        if (item.durationSeconds) video.appendChild(node("p", "xp-secondary", duration(item.durationSeconds)));
        strip.appendChild(video);
      });
      box.appendChild(strip);
      if (!(data.items || []).length) empty(box, "No videos");
    },
    liveStreamCard: function (box, data) {
      var item = (data.items || [])[0];
      if (!item) return empty(box, "No live stream now");
      var card = node("div", "xp-card xp-live");
      card.appendChild(node("span", "xp-tag", (item.liveStatus || "live").toUpperCase()));
      card.appendChild(node("p", "xp-text", item.title));
      if (data.liveSale) card.appendChild(node("p", "xp-secondary", "Products on sale in this stream"));
      box.appendChild(card);
    },
    voiceAssistantEntry: function (box, data) {
      actionButton(box, "🎤", data.greeting || "Tell me what you would like to do");
    },
    humanHelpEntry: function (box, data) {
      actionButton(box, "☎", HELP_LABELS[data.mode] || HELP_LABELS.chat);
      if (data.unreadMessages) empty(box, data.unreadMessages + " unread message(s) from your bank");
    },
    messagesInbox: function (box, data) {
      empty(box, (data.unreadTotal || 0) + " unread");
      (data.threads || []).forEach(function (thread) {
        box.appendChild(row(thread.subject, thread.from, thread.unread ? String(thread.unread) : ""));
      });
    },
    cardsSummary: function (box, data) {
      (data.cards || []).forEach(function (card) {
        box.appendChild(row((card.kind || "card") + " card", card.maskedNumber, card.status));
      });
      if (!(data.cards || []).length) empty(box, "No cards");
    },
    loansSummary: function (box, data) {
      (data.loans || []).forEach(function (loan) {
        box.appendChild(row(loan.product, loan.nextPaymentDue ? "Next payment " + loan.nextPaymentDue : "",
          money(loan.outstanding)));
      });
      if (!(data.loans || []).length) empty(box, "No loans");
    },
    wealthSummary: function (box, data) {
      box.appendChild(row("Total", data.asOf ? "as of " + data.asOf : "", money(data.total)));
    },
    offerButton: function (box, data) {
      actionButton(box, "", data.label || "See the offer", "xp-offer");
    },
  };

  // --- wiring -------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", function () {
    showSession(false);
    el("login-button").addEventListener("click", login);
    el("token").addEventListener("keydown", function (event) { if (event.key === "Enter") login(); });
    el("logout").addEventListener("click", function () { logout(); });
    el("reload").addEventListener("click", function () {
      reload().then(function () { clearMessages("Reloaded."); }, fail);
    });
    el("preview-show").addEventListener("click", showPreview);
    el("confirm-ok").addEventListener("click", function () { answerConfirm(true); });
    el("confirm-cancel").addEventListener("click", function () { answerConfirm(false); });
    // Escape closes a modal dialog: that is a "no".
    el("confirm").addEventListener("cancel", function (event) {
      event.preventDefault();
      answerConfirm(false);
    });
    // A token may come in the fragment (#token=...): fragments never reach a server. Keep it out of
    // the address bar and the history once read.
    var match = /(?:^|[#&])token=([^&]+)/.exec(window.location.hash);
    if (match) {
      el("token").value = decodeURIComponent(match[1]);
      history.replaceState(null, "", window.location.pathname);
      login();
    }
  });
})();
