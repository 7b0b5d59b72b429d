// Free-tier calculator: updates the result as you type. The page works
// without this script (its form is a plain GET form); this only fetches the
// same page for the form's current values, swaps in its result and its
// messages, and keeps the address bar in step so the result can be shared.
(function () {
  "use strict";
  var form = document.getElementById("ft-form");
  var result = document.getElementById("ft-result");
  if (!form || !result || !window.fetch || !window.DOMParser || !window.URLSearchParams || !window.FormData) {
    return;
  }
  var status = document.getElementById("ft-live");
  var action = form.getAttribute("action") || window.location.pathname;
  var timer = null;
  var controller = null;
  var seq = 0;
  var shown = query(); // the query whose result is on the page

  function setStatus(text) {
    if (!status) return;
    status.hidden = false;
    status.textContent = text || "The result updates as you type.";
  }
  setStatus("");

  // query is the form's state as the page's query string, without empty
  // fields (the server ignores them too), in the form's order.
  function query() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && value.trim() !== "") {
        params.append(name, value.trim());
      }
    });
    return params.toString();
  }

  function urlFor(qs) {
    return action + (qs ? "?" + qs : "");
  }

  // copyErrors shows beside each field the message the server gave it.
  function copyErrors(doc) {
    var slots = form.querySelectorAll("[data-error-for]");
    Array.prototype.forEach.call(slots, function (slot) {
      var name = slot.getAttribute("data-error-for");
      var fresh = doc.getElementById(slot.id);
      var msg = fresh ? fresh.textContent.trim() : "";
      slot.textContent = msg;
      slot.hidden = msg === "";
      var input = form.elements.namedItem(name);
      if (input && typeof input.setAttribute === "function") {
        if (msg) {
          input.setAttribute("aria-invalid", "true");
        } else {
          input.removeAttribute("aria-invalid");
        }
      }
    });
  }

  // update fetches the page for the form's state and swaps the result in.
  // A newer request aborts an older one, so answers never arrive out of
  // order. navigateOnFailure: a press of the button falls back to loading
  // the page the ordinary way.
  function update(navigateOnFailure) {
    var qs = query();
    if (qs === shown && !navigateOnFailure) {
      return;
    }
    var url = urlFor(qs);
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    var mine = ++seq;
    result.setAttribute("aria-busy", "true");
    fetch(url, {
      headers: { "Accept": "text/html" },
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined
    }).then(function (res) {
      // 422 is the form with messages: a normal answer here.
      if (res.status !== 200 && res.status !== 422) {
        throw new Error("HTTP " + res.status);
      }
      return res.text();
    }).then(function (html) {
      if (mine !== seq) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("ft-result");
      if (!fresh) throw new Error("no result in the answer");
      result.innerHTML = fresh.innerHTML;
      copyErrors(doc);
      shown = qs;
      try {
        window.history.replaceState(null, "", url);
      } catch (e) {
        // Some embedded browsers refuse; the result is still right.
      }
      setStatus("");
    }).catch(function (err) {
      if (mine !== seq || (err && err.name === "AbortError")) return;
      if (navigateOnFailure) {
        window.location.href = url;
        return;
      }
      setStatus("The result could not be updated; press Calculate to try again.");
    }).then(function () {
      if (mine === seq) result.removeAttribute("aria-busy");
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { update(false); }, 300);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    window.clearTimeout(timer);
    update(true);
  });

  // The message list's links move the focus to their field, not just the
  // scroll position.
  result.addEventListener("click", function (ev) {
    var link = ev.target && ev.target.closest ? ev.target.closest("a[href^='#ft-']") : null;
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    ev.preventDefault();
    var details = field.closest ? field.closest("details") : null;
    if (details) details.open = true;
    field.focus();
  });
})();
