/* saleslead dashboard: draw the charts, sort tables, send writes with the token. No inline scripts. */
(function () {
  "use strict";
  var TOKEN_KEY = "saleslead-write-token";

  function drawCharts() {
    document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
      var fig = JSON.parse(el.getAttribute("data-figure"));
      window.Plotly.newPlot(el, fig.data, fig.layout, { displaylogo: false, responsive: true });
    });
  }

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var raw = cell.getAttribute("data-value");
    if (raw !== null && raw !== "" && !isNaN(Number(raw))) return Number(raw);
    return (raw !== null ? raw : cell.textContent).trim().toLowerCase();
  }

  function makeSortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, index) {
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index), y = cellValue(b, index);
          if (x === y) return 0;
          return (x > y ? 1 : -1) * (ascending ? 1 : -1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  function formBody(form) {
    var body = {};
    new FormData(form).forEach(function (value, name) {
      if (value === "") return;
      var input = form.elements[name];
      body[name] = input && input.type === "number" ? Number(value) : value;
    });
    return body;
  }

  function show(target, ok, html) {
    target.innerHTML = "";
    var box = document.createElement("div");
    box.className = ok ? "ok" : "refused";
    box.innerHTML = html;
    target.appendChild(box);
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text === null || text === undefined ? "" : String(text);
    return div.innerHTML;
  }

  function money(value) {
    var size = Math.abs(value), sign = value < 0 ? "-" : "";
    var symbol = document.body.getAttribute("data-currency") || "$";  // the engagement's currency
    if (size >= 1e6) return sign + symbol + (size / 1e6).toFixed(2) + "M";
    if (size >= 1e3) return sign + symbol + Math.round(size / 1e3) + "k";
    return sign + symbol + Math.round(size);
  }

  function describe(form, data) {
    var template = form.getAttribute("data-describe");
    if (!template) return "Saved.";
    return template.replace(/\{([a-z_.0-9]+)(\|(money|pct))?\}/g, function (_, path, __, format) {
      var value = path.split(".").reduce(function (o, k) { return o === null || o === undefined ? o : o[k]; }, data);
      if (format === "pct" && typeof value === "number") value = (100 * value).toFixed(0) + "%";
      if (format === "money" && typeof value === "number") value = money(value);
      return escapeHtml(value);
    });
  }

  function wireWrites() {
    var tokenInput = document.getElementById("write-token");
    if (tokenInput) {
      tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || "";
      tokenInput.addEventListener("change", function () { sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim()); });
      tokenInput.form.addEventListener("submit", function (event) {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
      });
    }
    document.querySelectorAll("form[data-api]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var target = document.querySelector(form.getAttribute("data-result")) || form.querySelector(".result");
        var headers = { "Content-Type": "application/json", "Accept": "application/json" };
        var token = tokenInput ? tokenInput.value.trim() : "";
        if (token) headers["Authorization"] = "Bearer " + token;
        var body = formBody(form);
        fetch(form.getAttribute("data-api"), {
          method: form.getAttribute("data-method") || "POST",
          headers: headers,
          body: JSON.stringify(body),
        }).then(function (response) {
          return response.json().then(function (data) { return { status: response.status, data: data }; });
        }).then(function (reply) {
          if (reply.data && reply.data.error) {
            var e = reply.data.error;
            show(target, false, "<strong>Refused (" + reply.status + ", " + escapeHtml(e.type) + "):</strong> " +
              escapeHtml(e.message) + (e.hint ? "<br><small>" + escapeHtml(e.hint) + "</small>" : ""));
            target.setAttribute("data-status", String(reply.status));
          } else {
            show(target, true, describe(form, reply.data));
            target.setAttribute("data-status", String(reply.status));
            if (form.hasAttribute("data-reload")) setTimeout(function () { window.location.reload(); }, 1200);
          }
        }).catch(function (err) {
          show(target, false, "The request failed: " + escapeHtml(err));
        });
      });
    });
  }

  // CSV of any table on the page: numbers as numbers, text that a spreadsheet would run as a formula
  // (=, +, -, @, tab, CR, |, %) prefixed with an apostrophe — the same rule as saleslead.csvsafe on the server.
  function csvCell(cell) {
    var raw = cell.getAttribute("data-value");
    if (raw !== null && raw !== "" && !isNaN(Number(raw))) return raw;
    var text = cell.innerText.replace(/\s*\n\s*/g, " ").trim();
    if (/^\s*[=+\-@\t\r\n|%]/.test(text)) text = "'" + text;
    return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function tableCsv(table) {
    return Array.prototype.map.call(table.rows, function (row) {
      return Array.prototype.map.call(row.cells, csvCell).join(",");
    }).join("\n") + "\n";
  }

  function addCsvLinks() {
    document.querySelectorAll("table").forEach(function (table, n) {
      var card = table.closest(".card");
      var heading = card ? card.querySelector("h2") : null;
      if (!heading || heading.querySelector("a.download") || !table.tHead) return;
      var link = document.createElement("a");
      link.className = "download";
      link.textContent = "CSV";
      link.href = "#";
      link.setAttribute("download", (table.id || "table-" + n) + ".csv");
      link.addEventListener("click", function () {
        link.href = URL.createObjectURL(new Blob([tableCsv(table)], { type: "text/csv" }));
      });
      heading.appendChild(link);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    addCsvLinks();
    document.querySelectorAll("table.sortable").forEach(makeSortable);
    wireWrites();
  });
})();
