// The holder's page: follows the session's state and, when the check is over, goes on to the
// integrator's redirect_url. Everything else on the page works without this script.
"use strict";
(function () {
  var status = document.getElementById("status");
  if (!status || !window.fetch) {
    return;
  }
  var stateUrl = status.getAttribute("data-state-url");
  var redirectUrl = status.getAttribute("data-redirect-url");
  var title = status.querySelector(".state-title");
  var message = status.querySelector(".state-message");
  var progress = status.querySelector(".state-progress");
  var notice = document.getElementById("redirect-notice");
  var POLL_MS = 1000;
  var REDIRECT_DELAY_MS = 3000;
  var failures = 0;

  // Only changed text is written, so that screen readers announce changes and nothing else.
  function show(newTitle, newMessage) {
    if (title.textContent !== newTitle) {
      title.textContent = newTitle;
    }
    if (message.textContent !== newMessage) {
      message.textContent = newMessage;
    }
  }

  function finish() {
    notice.hidden = false;
    notice.textContent = "";
    if (!redirectUrl) {
      notice.textContent = "You can close this page.";
      return;
    }
    var host = new URL(redirectUrl).host;
    notice.appendChild(document.createTextNode("Taking you back to " + host + " in a moment. "));
    var link = document.createElement("a");
    link.href = redirectUrl;
    link.textContent = "Continue now";
    notice.appendChild(link);
    window.setTimeout(function () {
      window.location.replace(redirectUrl);
    }, REDIRECT_DELAY_MS);
  }

  function poll() {
    fetch(stateUrl, { cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404) {
          show("This link is no longer valid",
            "The check was deleted. Ask the service that sent you here for a new link.");
          return null;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (s) {
        if (!s) {
          return;
        }
        failures = 0;
        status.setAttribute("data-state", s.state);
        show(s.title, s.message);
        // The reading's progress, as the server's APDU relay reports it.
        var text = s.progress || "";
        if (progress && progress.textContent !== text) {
          progress.textContent = text;
          progress.hidden = !text;
        }
        if (s.finished) {
          finish();
        } else {
          window.setTimeout(poll, POLL_MS);
        }
      })
      .catch(function () {
        // The server or the network is away for a moment: back off, up to 30 s between tries.
        failures += 1;
        if (failures === 3) {
          notice.hidden = false;
          notice.textContent = "Cannot reach the server right now; still trying.";
        }
        window.setTimeout(poll, Math.min(30000, POLL_MS * Math.pow(2, failures)));
      });
  }

  window.setTimeout(poll, POLL_MS);
})();
