// rnngraph's HTML viewer: pan and zoom, search, node panel, scope expansion, input tracing.
// Everything it needs is in the page: the SVG of each depth in a <template>, node data as JSON.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("rg-data").textContent);
  var nodes = data.nodes, levels = data.levels;
  var byName = {};
  var consumers = nodes.map(function () { return []; });
  nodes.forEach(function (n, i) {
    byName[n.n] = i;
    n.i.forEach(function (inp) { consumers[inp[0]].push([i, inp[1], inp[2]]); });
  });
  var view = document.getElementById("rg-view");
  var panel = document.getElementById("rg-panel");
  var statusEl = document.getElementById("rg-status");
  var search = document.getElementById("rg-search");
  var traceButton = document.getElementById("rg-trace");
  var st = { level: -1, svg: null, vb: null, home: null, boxEls: {}, edges: [],
             selected: -1, hits: [], trace: null, drag: null, dragged: false };

  function boxOf(i, level) {
    var lv = levels[level === undefined ? st.level : level];
    var k = lv.box[i];
    return k < 0 ? null : lv.boxes[k];
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  // ---- levels (pre-rendered depths)
  function showLevel(k) {
    var tpl = document.getElementById("rg-level-" + k);
    view.textContent = "";
    view.appendChild(document.importNode(tpl.content, true));
    var svg = view.querySelector("svg");
    var vb = svg.viewBox.baseVal;
    st.home = [vb.x, vb.y, vb.width, vb.height];
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    st.svg = svg;
    st.level = k;
    st.boxEls = {};
    // Graphviz keeps "\\" and "&amp;" of a name as written: alias maps such titles back.
    var alias = levels[k].alias || {};
    function boxId(title) { return alias.hasOwnProperty(title) ? alias[title] : title; }
    svg.querySelectorAll("g.node").forEach(function (g) {
      var t = g.querySelector("title");
      if (t) { var id = boxId(t.textContent); st.boxEls[id] = g; g.setAttribute("data-box", id); }
    });
    st.edges = [];
    svg.querySelectorAll("g.edge").forEach(function (g) {
      var t = g.querySelector("title");
      var parts = t ? t.textContent.split("->") : [];
      if (parts.length === 2) { st.edges.push({ g: g, a: boxId(parts[0]), b: boxId(parts[1]) }); }
    });
    document.querySelectorAll("button.rg-level").forEach(function (b) {
      b.classList.toggle("rg-on", Number(b.getAttribute("data-level")) === k);
    });
    document.body.setAttribute("data-level", String(k));
    setViewBox(st.home.slice());
    applyMarks();
  }

  // ---- pan and zoom (on the SVG's viewBox)
  function setViewBox(v) {
    st.vb = v;
    st.svg.setAttribute("viewBox", v.join(" "));
  }
  function toSvg(x, y) {
    var pt = st.svg.createSVGPoint();
    pt.x = x; pt.y = y;
    return pt.matrixTransform(st.svg.getScreenCTM().inverse());
  }
  function zoomAt(x, y, factor) {
    var p = toSvg(x, y), v = st.vb;
    setViewBox([p.x - (p.x - v[0]) * factor, p.y - (p.y - v[1]) * factor, v[2] * factor, v[3] * factor]);
  }
  function zoomTo(element, minWidth) {
    var r = element.getBoundingClientRect();
    var a = toSvg(r.left, r.top), b = toSvg(r.right, r.bottom);
    var box = view.getBoundingClientRect();
    var w = Math.max((b.x - a.x) * 2.5, minWidth || 800);
    var h = Math.max((b.y - a.y) * 2.5, w * box.height / Math.max(box.width, 1));
    w = Math.max(w, h * box.width / Math.max(box.height, 1));
    setViewBox([(a.x + b.x) / 2 - w / 2, (a.y + b.y) / 2 - h / 2, w, h]);
  }
  view.addEventListener("wheel", function (e) {
    e.preventDefault();
    zoomAt(e.clientX, e.clientY, Math.min(Math.max(Math.exp(e.deltaY * 0.0015), 0.5), 2));
  }, { passive: false });
  view.addEventListener("mousedown", function (e) {
    if (e.button !== 0) { return; }
    st.drag = { x: e.clientX, y: e.clientY, vb: st.vb.slice(), scale: st.svg.getScreenCTM().a };
    st.dragged = false;
  });
  window.addEventListener("mousemove", function (e) {
    var d = st.drag;
    if (!d) { return; }
    var dx = e.clientX - d.x, dy = e.clientY - d.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { st.dragged = true; view.classList.add("rg-dragging"); }
    if (st.dragged) { setViewBox([d.vb[0] - dx / d.scale, d.vb[1] - dy / d.scale, d.vb[2], d.vb[3]]); }
  });
  window.addEventListener("mouseup", function () { st.drag = null; view.classList.remove("rg-dragging"); });

  // ---- highlighting
  function mark(cls, indices) {
    view.querySelectorAll("g." + cls).forEach(function (g) { g.classList.remove(cls); });
    var boxes = {};
    indices.forEach(function (i) {
      var b = boxOf(i);
      if (b !== null && st.boxEls[b]) { st.boxEls[b].classList.add(cls); boxes[b] = true; }
    });
    return boxes;
  }
  function applyMarks() {
    mark("rg-hit", st.hits);
    mark("rg-sel", st.selected >= 0 ? [st.selected] : []);
    var traced = mark("rg-trace", st.trace || []);
    st.edges.forEach(function (e) { e.g.classList.toggle("rg-trace", !!(traced[e.a] && traced[e.b])); });
    view.classList.toggle("rg-tracing", !!st.trace);
  }

  // ---- search
  function runSearch() {
    var q = search.value.trim().toLowerCase();
    st.hits = [];
    if (q) {
      nodes.forEach(function (n, i) {
        if (n.n.toLowerCase().indexOf(q) >= 0 || n.o.toLowerCase().indexOf(q) >= 0) { st.hits.push(i); }
      });
    }
    applyMarks();
    if (!q) { statusEl.textContent = ""; return; }
    var shown = {};
    st.hits.forEach(function (i) { var b = boxOf(i); if (b !== null) { shown[b] = true; } });
    statusEl.textContent = st.hits.length + " match" + (st.hits.length === 1 ? "" : "es") +
      " in " + Object.keys(shown).length + " box" + (Object.keys(shown).length === 1 ? "" : "es");
    panel.textContent = "";
    panel.appendChild(el("h2", "Search: " + search.value.trim()));
    panel.appendChild(el("p", st.hits.length + " node(s) whose name or op contains it" +
      (st.hits.length > 200 ? " (first 200 listed)" : "") + ":", "rg-hint"));
    var ul = el("ul");
    st.hits.slice(0, 200).forEach(function (i) {
      var li = el("li");
      li.appendChild(nodeLink(i, "rg-result"));
      li.appendChild(document.createTextNode(" (" + nodes[i].o + ")"));
      ul.appendChild(li);
    });
    panel.appendChild(ul);
  }
  var searchTimer = null;
  search.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 250);
  });
  search.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { clearTimeout(searchTimer); runSearch(); }
    if (e.key === "Escape") { search.value = ""; runSearch(); }
  });

  // ---- selecting a node
  function nodeLink(i, cls) {
    var a = el("span", nodes[i].n, "rg-link" + (cls ? " " + cls : ""));
    a.setAttribute("data-node", String(i));
    return a;
  }
  function levelShowing(i) {
    // the shallowest level that draws node i as its own box (or the deepest level drawn)
    for (var k = 0; k < levels.length; k++) {
      if (boxOf(i, k) === nodes[i].n) { return k; }
    }
    return -1;
  }
  function select(i, reveal) {
    st.selected = i;
    st.trace = null;
    traceButton.disabled = false;
    if (reveal) {
      var b = boxOf(i);
      if (b !== nodes[i].n) {
        var k = levelShowing(i);
        if (k >= 0 && k !== st.level) { showLevel(k); }
      }
    }
    applyMarks();
    showPanel(i);
    var box = boxOf(i);
    if (reveal && box !== null && st.boxEls[box]) { zoomTo(st.boxEls[box]); }
    statusEl.textContent = nodes[i].n;
  }
  function section(title) { panel.appendChild(el("h3", title)); }
  function showPanel(i) {
    var n = nodes[i];
    panel.textContent = "";
    panel.appendChild(el("h2", n.n.split("/").pop()));
    panel.appendChild(el("p", n.n, "rg-full"));
    var dl = el("dl");
    [["op", n.o], ["device", n.d || "(none)"], ["while frame", n.f || "(none)"]].forEach(function (row) {
      dl.appendChild(el("dt", row[0]));
      dl.appendChild(el("dd", row[1]));
    });
    panel.appendChild(dl);
    panel.appendChild(el("p", data.ops[n.o] || "", "rg-desc"));
    if (n.s.length) {
      section("Part of");
      n.s.forEach(function (k) {
        var s = data.structures[k];
        var div = el("div", null, "rg-struct");
        div.appendChild(el("b", s.title));
        div.appendChild(el("div", s.text));
        panel.appendChild(div);
      });
    }
    section("Inputs (" + n.i.length + ")");
    var ul = el("ul");
    n.i.forEach(function (inp) {
      var li = el("li");
      li.appendChild(document.createTextNode(inp[2] ? "^ " : ""));
      li.appendChild(nodeLink(inp[0]));
      li.appendChild(document.createTextNode(inp[2] ? " (control)" :
        (inp[1] ? ":" + inp[1] : "") + "  " + inp[3] + (inp[4] ? "  (loop back edge)" : "")));
      ul.appendChild(li);
    });
    panel.appendChild(ul);
    section("Outputs (" + n.t.length + ")");
    ul = el("ul");
    n.t.forEach(function (shape, k) {
      var li = el("li", ":" + k + "  " + shape);
      var users = consumers[i].filter(function (c) { return !c[2] && c[1] === k; });
      if (users.length) {
        li.appendChild(document.createTextNode(" → "));
        users.forEach(function (c, j) {
          if (j) { li.appendChild(document.createTextNode(", ")); }
          li.appendChild(nodeLink(c[0]));
        });
      }
      ul.appendChild(li);
    });
    panel.appendChild(ul);
    var controlled = consumers[i].filter(function (c) { return c[2]; });
    if (controlled.length) {
      section("Control edges to (" + controlled.length + ")");
      ul = el("ul");
      controlled.forEach(function (c) { var li = el("li"); li.appendChild(nodeLink(c[0])); ul.appendChild(li); });
      panel.appendChild(ul);
    }
    if (n.a.length) {
      section("Attributes");
      ul = el("ul");
      n.a.forEach(function (a) { ul.appendChild(el("li", a)); });
      panel.appendChild(ul);
    }
  }

  // ---- collapsed scopes
  function expand(box) {
    var scope = box.slice("scope::".length);
    for (var k = st.level + 1; k < levels.length; k++) {
      if (levels[k].boxes.indexOf(box) < 0) {
        showLevel(k);
        var cluster = null;
        st.svg.querySelectorAll("g.cluster > title").forEach(function (t) {
          if (t.textContent === "cluster_" + scope) { cluster = t.parentNode; }
        });
        if (cluster) { zoomTo(cluster, 300); }
        statusEl.textContent = "opened " + scope + " (depth " + levels[k].label + ")";
        return;
      }
    }
    // Too large to lay out at any depth drawn: list what it holds instead.
    listMembers(box, scope, "too many to lay out one by one");
  }
  function listMembers(box, title, why) {
    var members = [];
    nodes.forEach(function (n, i) { if (boxOf(i) === box) { members.push(i); } });
    if (!members.length) { return; }
    panel.textContent = "";
    panel.appendChild(el("h2", title));
    panel.appendChild(el("p", members.length + " ops; " + why +
      (members.length > 300 ? " (first 300 listed)" : "") + ". Click one for its details.", "rg-hint"));
    var ul = el("ul");
    members.slice(0, 300).forEach(function (i) {
      var li = el("li"); li.appendChild(nodeLink(i)); li.appendChild(document.createTextNode(" (" + nodes[i].o + ")"));
      ul.appendChild(li);
    });
    panel.appendChild(ul);
  }

  // ---- tracing inputs (loop back edges are not followed: one iteration's dependencies)
  function traceInputs() {
    if (st.selected < 0) { return; }
    var seen = {}, stack = [st.selected], order = [];
    seen[st.selected] = true;
    while (stack.length) {
      var i = stack.pop();
      order.push(i);
      nodes[i].i.forEach(function (inp) {
        if (!inp[4] && !seen[inp[0]]) { seen[inp[0]] = true; stack.push(inp[0]); }
      });
    }
    st.trace = order;
    applyMarks();
    var sources = order.filter(function (i) { return nodes[i].i.length === 0 && nodes[i].o !== "Const"; });
    statusEl.textContent = nodes[st.selected].n + " depends on " + (order.length - 1) + " node(s)";
    section("Depends on " + (order.length - 1) + " node(s); its sources:");
    var ul = el("ul");
    sources.forEach(function (i) {
      var li = el("li"); li.appendChild(nodeLink(i)); li.appendChild(document.createTextNode(" (" + nodes[i].o + ")"));
      ul.appendChild(li);
    });
    panel.appendChild(ul);
    panel.appendChild(el("p", "Loop back edges (NextIteration → Merge) are not followed.", "rg-hint"));
  }

  // ---- wiring
  view.addEventListener("click", function (e) {
    if (st.dragged) { st.dragged = false; return; }
    var g = e.target.closest ? e.target.closest("g.node") : null;
    if (!g) { return; }
    var box = g.getAttribute("data-box") || "";
    if (box.indexOf("scope::") === 0) { expand(box); return; }
    if (byName.hasOwnProperty(box)) { select(byName[box], false); return; }
    listMembers(box, box.replace(/^[a-z]+::/, ""), "grouped into this box");
  });
  panel.addEventListener("click", function (e) {
    var t = e.target;
    if (t.hasAttribute && t.hasAttribute("data-node")) { select(Number(t.getAttribute("data-node")), true); }
  });
  document.querySelectorAll("button.rg-level").forEach(function (b) {
    b.addEventListener("click", function () { showLevel(Number(b.getAttribute("data-level"))); });
  });
  traceButton.addEventListener("click", traceInputs);
  document.getElementById("rg-fit").addEventListener("click", function () { setViewBox(st.home.slice()); });
  document.getElementById("rg-clear").addEventListener("click", function () {
    st.selected = -1; st.trace = null; st.hits = []; search.value = "";
    traceButton.disabled = true; statusEl.textContent = ""; applyMarks();
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== search) { e.preventDefault(); search.focus(); }
  });
  showLevel(Number(document.body.getAttribute("data-initial")) || 0);
  document.body.setAttribute("data-ready", "1");
}());
