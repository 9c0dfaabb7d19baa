// rnngraph step-through: a slider over the iterations of a traced run (see draw/stepthrough.py).
// It only reads the diagram the viewer shows (#rg-view svg, boxes named by data-box or <title>)
// and adds its own panel, so it works whichever depth the viewer draws.
(function () {
  "use strict";
  var source = document.getElementById("rg-steps-data");
  if (!source) { return; }
  var steps = JSON.parse(source.textContent);
  var count = steps.ran.length;
  if (!count) { return; }

  var style = document.createElement("style");
  style.textContent =
    // the controls and heat maps sit in the side column, above the node panel, never over the drawing
    "#rg-side { width: 380px; flex: none; display: flex; flex-direction: column; min-height: 0; border-left: 1px solid #ccc; }" +
    "#rg-side #rg-panel { flex: 1; width: auto; border-left: none; min-height: 0; }" +
    "#rg-steps { flex: none; max-height: 60%; overflow: auto; padding: 8px 12px; background: #fff; border-bottom: 1px solid #ccc; font-size: 12px; }" +
    "#rg-steps input[type=range] { width: 100%; }" +
    "#rg-steps .rg-heat { display: inline-block; margin: 4px 12px 4px 0; vertical-align: top; }" +
    "#rg-steps .rg-heat span.rg-cell { display: inline-block; width: 16px; height: 16px; border: 1px solid #fff; cursor: crosshair; }" +
    "#rg-steps .rg-scale { display: flex; align-items: center; gap: 4px; margin: 4px 0; }" +
    "#rg-steps .rg-scale span.rg-bar { display: inline-block; width: 140px; height: 10px; border: 1px solid #999;" +
    " background: linear-gradient(to right, rgb(0,0,255), rgb(255,255,255), rgb(255,0,0)); }" +
    "#rg-step-value { font-family: monospace; min-height: 1.4em; }" +
    "#rg-steps .rg-slot { display: inline-block; width: 16px; height: 14px; border: 1px solid #238b45; margin-right: 2px; text-align: center; font-size: 9px; }" +
    "#rg-steps .rg-slot.rg-filled { background: #74c476; }" +
    "g.node.rg-ran polygon, g.node.rg-ran path, g.node.rg-ran ellipse { stroke: #e6550d !important; stroke-width: 3.5px !important; }" +
    "g.node.rg-idle { opacity: 0.35; }" +
    "g.node.rg-took-enter text { fill: #08519c; font-weight: bold; }" +
    "g.node.rg-took-next text { fill: #d94801; font-weight: bold; }" +
    "g.node.rg-side-false polygon { stroke-dasharray: 4 2; }";
  document.head.appendChild(style);

  var panel = document.createElement("div");
  panel.id = "rg-steps";
  var unit = steps.unit;
  panel.innerHTML = '<div><b>' + unit + '</b> <span id="rg-step-label"></span></div>' +
    '<input type="range" id="rg-step" min="0" max="' + (count - 1) + '" value="0" step="1">' +
    '<div id="rg-step-flow"></div><div id="rg-step-arrays"></div>' +
    '<div class="rg-scale">−1 <span class="rg-bar"></span> +1 <span class="rg-hint">(gates 0 … 1)</span></div>' +
    '<div id="rg-step-value" class="rg-hint">hover a square for its value</div><div id="rg-step-heat"></div>';
  var side = document.getElementById("rg-panel");
  if (side && side.parentNode) {  // a column: the step-through on top, the node panel below
    var column = document.createElement("aside");
    column.id = "rg-side";
    side.parentNode.insertBefore(column, side);
    column.appendChild(panel);
    column.appendChild(side);
  } else {
    document.body.appendChild(panel);
  }
  var slider = document.getElementById("rg-step");

  function boxName(g) {
    if (g.hasAttribute("data-box")) { return g.getAttribute("data-box"); }
    var title = g.querySelector("title");
    return title ? title.textContent : "";
  }

  function short(name) { return name.slice(name.lastIndexOf("/") + 1); }

  function covers(box, names, t) {
    // a box shows a ran node itself, a collapsed scope holding it, or a stack of step copies
    if (names[box]) { return true; }
    if (box.indexOf("stack::") === 0) {
      var range = box.slice(box.lastIndexOf("::") + 2).split("-");
      return unit === "step" && t >= Number(range[0]) && t <= Number(range[1]);
    }
    if (box.indexOf("scope::") === 0) {
      var scope = box.slice(7) + "/";
      for (var n in names) { if (n.indexOf(scope) === 0) { return true; } }
    }
    return false;
  }

  function heat(label, values) {
    if (!values) { return ""; }
    var rows = Array.isArray(values[0]) ? values : [values];
    var html = '<div class="rg-heat" data-role="' + label + '"><div>' + label + "</div>";
    rows.forEach(function (row, i) {
      html += "<div>";
      row.forEach(function (v, j) {
        // -1 blue, 0 white, 1 red (gates live in 0..1, h and c in -1..1)
        var a = Math.max(-1, Math.min(1, v)), r, g, b;
        if (a >= 0) { r = 255; g = b = Math.round(255 * (1 - a)); } else { b = 255; r = g = Math.round(255 * (1 + a)); }
        html += '<span class="rg-cell" data-value="' + label + "[" + i + "][" + j + "] = " + v.toPrecision(4) +
          '" title="' + v.toPrecision(4) + '" style="background: rgb(' +
          r + "," + g + "," + b + ')"></span>';
      });
      html += "</div>";
    });
    return html + "</div>";
  }

  function show(t) {
    var names = {};
    steps.ran[t].forEach(function (n) { names[n] = true; });
    var exit = unit === "iteration" && t === steps.iterations;
    document.getElementById("rg-step-label").textContent =
      unit + " " + t + " (of 0–" + (steps.iterations - 1) + ")" + (exit ? ": the exit test, the loop ends" : "") +
      " — " + steps.ran[t].length + " ops ran";
    document.querySelectorAll("#rg-view svg g.node").forEach(function (g) {
      var box = boxName(g), on = covers(box, names, t);
      g.classList.toggle("rg-ran", on);
      g.classList.toggle("rg-idle", !on && box.indexOf("legend::") !== 0);
      var took = steps.merges[box] ? steps.merges[box][t] : null;
      g.classList.toggle("rg-took-enter", !!took && /Enter/.test(took));
      g.classList.toggle("rg-took-next", !!took && /NextIteration/.test(took));
      var side = steps.switches[box] ? steps.switches[box][t] : null;
      g.classList.toggle("rg-side-false", side === "false");
    });
    var flow = [];
    Object.keys(steps.merges).sort().forEach(function (m) {
      if (steps.merges[m][t]) { flow.push(short(m) + " took " + short(steps.merges[m][t])); }
    });
    Object.keys(steps.switches).sort().forEach(function (s) {
      if (steps.switches[s][t]) { flow.push(short(s) + " → " + steps.switches[s][t]); }
    });
    document.getElementById("rg-step-flow").textContent = flow.join(" · ");
    var arrays = "";
    Object.keys(steps.arrays).sort().forEach(function (name) {
      var writes = steps.arrays[name], size = writes.length;
      var filled = writes.filter(function (w, k) { return k <= t; }).map(function (w) { return w.slot; });
      arrays += '<div data-array="' + name + '">' + name + ": ";
      for (var k = 0; k < size; k++) {
        arrays += '<span class="rg-slot' + (filled.indexOf(k) >= 0 ? " rg-filled" : "") + '">' + k + "</span>";
      }
      arrays += "</div>";
    });
    document.getElementById("rg-step-arrays").innerHTML = arrays;
    var heats = "";
    steps.order.forEach(function (role) {
      heats += heat(role.replace("gate:", ""), steps.panel[role][t]);
    });
    document.getElementById("rg-step-heat").innerHTML = heats;
    document.body.setAttribute("data-step", String(t));
  }

  slider.addEventListener("input", function () { show(Number(slider.value)); });
  document.getElementById("rg-step-heat").addEventListener("mouseover", function (e) {
    var text = e.target.getAttribute && e.target.getAttribute("data-value");
    if (text) { document.getElementById("rg-step-value").textContent = unit + " " + slider.value + ": " + text; }
  });
  // The viewer swaps the SVG when the depth changes: light the new one up too.
  var view = document.getElementById("rg-view");
  if (view && window.MutationObserver) {
    new MutationObserver(function () { show(Number(slider.value)); })
      .observe(view, { childList: true });
  }
  show(0);
})();
