// The cohort dashboard, live: server-sent events say which student's
// results changed, and that student's row is fetched again and swapped in.
// Without JavaScript the page works the same with a refresh.
(function () {
  "use strict";
  var table = document.getElementById("matrix");
  if (!table || !window.EventSource || !window.fetch) return;
  var status = document.getElementById("live-status");
  var rowURL = table.getAttribute("data-row-url");
  var query = table.getAttribute("data-query");
  var pending = {};
  var timer = null;
  var wasDown = false;

  function say(text) {
    if (!status) return;
    status.hidden = false;
    status.textContent = text;
  }

  // Fetch the rows of the students whose results changed, a few hundred
  // milliseconds after the first event, so a burst costs one fetch each.
  function flush() {
    timer = null;
    var ids = Object.keys(pending);
    pending = {};
    ids.forEach(function (id) {
      var old = document.getElementById("student-" + id);
      if (!old) return; // not on this page of the list, or filtered out
      fetch(rowURL + id + (query ? "?" + query : ""), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var body = document.createElement("tbody");
          body.innerHTML = html.trim();
          var row = body.firstElementChild;
          var current = document.getElementById("student-" + id);
          if (!row || !current) return;
          var focused = current.contains(document.activeElement);
          current.replaceWith(row);
          row.classList.add("just-updated");
          setTimeout(function () { row.classList.remove("just-updated"); }, 2000);
          if (focused) row.querySelector("a").focus();
        })
        .catch(function () {});
    });
  }

  function queue(id) {
    pending[id] = true;
    if (!timer) timer = setTimeout(flush, 250);
  }

  // After a gap in the stream, every visible row may be stale.
  function resync() {
    table.querySelectorAll("tbody tr[data-user]").forEach(function (tr) {
      queue(tr.getAttribute("data-user"));
    });
  }

  function regrade(ev) {
    var d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    var li = document.getElementById("regrade-" + d.regrade_id);
    if (!li) return;
    var bar = li.querySelector("progress");
    var ended = d.done + d.failed + (d.cancelled || 0);
    if (bar) { bar.max = d.total; bar.value = ended; }
    var count = li.querySelector(".regrade-count");
    if (count) {
      count.textContent = d.done + " of " + d.total + " done" + (d.failed ? ", " + d.failed + " failed" : "") +
        (d.cancelled ? ", " + d.cancelled + " cancelled" : "") + (ended >= d.total ? " · finished" : "");
    }
    var cancel = li.querySelector(".regrade-cancel");
    if (cancel && ended >= d.total) cancel.remove();
  }

  var source = new EventSource(table.getAttribute("data-events"));
  source.addEventListener("open", function () {
    say("Live: the table updates as students work.");
    if (wasDown) { wasDown = false; resync(); }
  });
  source.addEventListener("error", function () {
    wasDown = true;
    say("Live updates paused; reconnecting…");
  });
  source.addEventListener("progress", function (ev) {
    try { queue(String(JSON.parse(ev.data).user_id)); } catch (e) {}
  });
  // Someone joined or left: the rows and the totals change, so the page
  // offers a refresh rather than moving rows under the reader's eyes.
  var membersChanged = 0;
  source.addEventListener("member", function () {
    var note = document.getElementById("members-changed");
    if (!note) return;
    membersChanged++;
    note.querySelector("span").textContent = membersChanged === 1 ?
      "The cohort's members changed since this page loaded (a student joined or left)." :
      "The cohort's members changed " + membersChanged + " times since this page loaded.";
    note.querySelector("a").href = location.href;
    note.hidden = false;
  });
  source.addEventListener("regrade", regrade);
  source.addEventListener("resync", resync);
})();
