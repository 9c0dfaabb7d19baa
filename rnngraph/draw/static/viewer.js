// rnngraph's HTML viewer: lays the graph out in the page (Graphviz compiled to WebAssembly, inlined
// as window.RgGraphviz) so any scope opens or closes where it stands; enters function bodies as
// their own graph; pan and zoom, minimap, search, node panel, input tracing, the view in the URL,
// keyboard, SVG/PNG export.  `--full` pages hold one pre-rendered SVG in a <template> instead.
// Everything is in the page: nothing is fetched.
// Hooks for other scripts of the page: window.rgViewers (the viewers), the "rg-layout" event on a
// viewer's root after every layout (detail.viewer), window.rgPanelHooks (called when a node's
// panel is shown).  Box fill colours come from Python (scene.py: box_statement), so an overlay
// that colours boxes there shows here unchanged; data.scene.legend rows are [text, colour].
(function () {
  "use strict";
  var MIN_SCALE = 1.1;  // screen px per point at the initial zoom: 10 pt node labels >= 11 px
  var MAX_BOXES = 1500;  // above this Graphviz would keep the page busy for minutes
  var engine = null;  // a promise of the Graphviz instance, shared by every viewer of the page

  function getEngine() {
    if (!engine) { engine = window.RgGraphviz.load(); }
    return engine;
  }
  function quote(text) {
    return '"' + String(text).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r/g, "")
      .replace(/\n/g, "\\n") + '"';
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function chain(scope) {
    var parts = scope ? scope.split("/") : [], out = [];
    for (var k = 0; k < parts.length; k++) { out.push(parts.slice(0, k + 1).join("/")); }
    return out;
  }
  function parent(scope) { var k = scope.lastIndexOf("/"); return k < 0 ? "" : scope.slice(0, k); }
  function under(scope, root) { return !root || scope === root || scope.indexOf(root + "/") === 0; }

  // One viewer: `root` holds the elements named by class (rg-view, rg-panel, ...).
  function Viewer(root, data, options) {
    options = options || {};
    var self = this;
    var q = function (name) { return root.querySelector(".rg-" + name); };
    var nodes = data.nodes, levels = data.levels || [], scene = data.scene || null;
    // A node as people read it: a function body's node by its display name (rnngraph.graphdef.names).
    function displayName(n) { return n.v || n.n; }
    var byName = {}, consumers = nodes.map(function () { return []; });
    nodes.forEach(function (n, i) {
      byName[n.n] = i;
      n.i.forEach(function (inp) { consumers[inp[0]].push([i, inp[1], inp[2]]); });
    });
    var boxIndex = {};
    if (scene) { scene.boxes.forEach(function (b, k) { boxIndex[b[0]] = k; }); }
    // Ids DOT cannot take as "id" (\\, ", &, control characters, long names): scene.ids holds their
    // DOT spelling and the <title> Graphviz writes for them (scene.py: odd_ids); titleIds maps back.
    var odd = (scene && scene.ids) || {}, titleIds = {};
    Object.keys(odd).forEach(function (id) { titleIds[odd[id][1]] = id; });
    function dotId(id) { return odd.hasOwnProperty(id) ? odd[id][0] : '"' + id + '"'; }
    var view = q("view"), panel = q("panel"), statusEl = q("status"), search = q("search");
    var traceButton = q("trace");
    var st = { level: -1, svg: null, vb: null, home: null, boxEls: {}, edges: [], clusters: {},
               selected: -1, hits: [], trace: null, drag: null, dragged: false,
               open: {}, roots: [], layouts: 0, busy: false, uid: options.uid || "rg" };
    (data.open || []).forEach(function (s) { st.open[s] = true; });
    self.st = st;
    self.data = data;
    self.root = root;

    function setStatus(text) { if (statusEl) { statusEl.textContent = text; } }

    // ---- which box shows what
    function currentRoot() { return st.roots.length ? st.roots[st.roots.length - 1] : ""; }
    function shownBox(k) {
      // the box that shows scene box k now: itself, its outermost closed scope, or null (hidden)
      var b = scene.boxes[k], cluster = b[2], r = currentRoot();
      if (!under(cluster, r)) { return null; }
      if (b[0].indexOf("stack::") === 0) { return b[0]; }  // stacked copies stay one box
      var scopes = chain(cluster);
      for (var j = 0; j < scopes.length; j++) {
        if (r && under(r, scopes[j])) { continue; }  // the root and what holds it stay open
        if (!st.open[scopes[j]]) { return "scope::" + scopes[j]; }
      }
      var consumer = scene.folded[k];
      if (consumer !== undefined && shownBox(consumer) === scene.boxes[consumer][0]) {
        return scene.boxes[consumer][0];  // a constant folded into its consumer's label
      }
      return b[0];
    }
    function statementOf(k) {
      // box k's statement; a consumer's label lists the constants folded into it now
      var fold = scene.folds[k];
      if (!fold) { return scene.boxes[k][1]; }
      var me = scene.boxes[k][0], mask = 0;
      fold[0].forEach(function (c, j) { if (shownBox(c) === me) { mask |= 1 << j; } });
      if (fold[1].length === 1 << fold[0].length) { return fold[1][mask]; }
      return fold[1][mask === 0 ? 0 : 1];  // many constants: only "none" and "all" are told apart
    }
    function inLabel(k, s) {
      // box k is a constant drawn in its consumer's label now: its edges are not drawn
      return scene.folded[k] !== undefined && s !== scene.boxes[k][0] && s.indexOf("scope::") !== 0;
    }
    function clusterOfShown(s) {
      if (s.indexOf("scope::") === 0) { return parent(s.slice(7)); }
      var cluster = scene.boxes[boxIndex[s]][2];
      if (s.indexOf("stack::") !== 0) { return cluster; }
      var r = currentRoot(), deepest = r;  // a stack sits in the deepest open scope holding it
      chain(cluster).every(function (c) {
        if (r && under(r, c)) { return true; }
        if (!st.open[c]) { return false; }
        deepest = c;
        return true;
      });
      return deepest;
    }
    function boxOf(i) {
      if (!scene) {
        var lv = levels[st.level], k = lv.box[i];
        return k < 0 ? null : lv.boxes[k];
      }
      var leaf = scene.node[i];
      return leaf < 0 ? null : shownBox(leaf);
    }
    self.boxOf = boxOf;
    self.byName = byName;

    // ---- DOT of what is open now
    function assemble() {
      var shown = {}, order = [], extra = {}, members = {};
      scene.boxes.forEach(function (b, k) {
        var s = shownBox(k);
        if (s === null) { return; }
        if (!shown.hasOwnProperty(s)) {
          shown[s] = k;
          order.push(s);
          var cluster = clusterOfShown(s);
          (members[cluster] = members[cluster] || []).push(s);
        }
        if (s === b[0] && b[3]) { extra[s] = b[3]; }
      });
      var r = currentRoot(), scopes = {}, children = {};
      Object.keys(members).forEach(function (c) {
        chain(c).forEach(function (s) { if (s !== r && under(s, r)) { scopes[s] = true; } });
      });
      Object.keys(scopes).sort().forEach(function (s) { (children[parent(s)] = children[parent(s)] || []).push(s); });
      var out = ["digraph rnngraph {"].concat(scene.head);
      if (order.length > 150) { out.push("  graph [nslimit=2, mclimit=0.3, searchsize=30];"); }
      function emit(scope, indent) {
        (members[scope] || []).forEach(function (s) {
          out.push(indent + (s.indexOf("scope::") === 0 ? scene.scopes[s.slice(7)][0] : statementOf(boxIndex[s])));
          if (extra[s]) { extra[s].split("\n").forEach(function (line) { out.push(indent + line); }); }
        });
        (children[scope] || []).forEach(function (c) {
          out.push(indent + "subgraph " + dotId("cluster::" + c) + " {");
          out.push(indent + "  " + scene.scopes[c][1]);
          emit(c, indent + "  ");
          out.push(indent + "}");
        });
      }
      emit(r, "  ");  // in a function body, its own boxes hang at the top level
      var merged = {}, keys = [];
      scene.edges.forEach(function (e) {
        var a = shownBox(e[0]), b = shownBox(e[1]);
        if (a === null || b === null || inLabel(e[0], a) || inLabel(e[1], b)) { return; }
        var leafA = scene.boxes[e[0]][0], leafB = scene.boxes[e[1]][0];
        if (a === b && !(leafA === leafB && a === leafA)) { return; }
        var back = e[4] && a === leafA ? 1 : 0;
        var key = JSON.stringify([a, b, e[2], e[3], back]);
        if (!merged[key]) { merged[key] = { shapes: {}, count: 0 }; keys.push(key); }
        e[5].forEach(function (s) { merged[key].shapes[s] = true; });
        merged[key].count += e[6];
      });
      var labelKey = "xlabel";  // as dot.py: edge labels placed after the layout, no rank of their own
      keys.sort().forEach(function (key) {
        var k = JSON.parse(key), a = k[0], b = k[1], control = k[2], kind = k[3], back = k[4];
        var m = merged[key], shapes = Object.keys(m.shapes).sort(), attrs = [];
        var count = m.count > 1 ? " ×" + m.count : "";
        if (a === b) {
          attrs.push(labelKey + "=" + quote(" to the next step: " + shapes.join(", ")), 'color="#2171b5"', "penwidth=1.6");
        } else if (control) {
          attrs.push("style=dashed", 'color="#9e9e9e"', "arrowhead=odot");
        } else if (shapes.length === 1) {
          attrs.push(labelKey + "=" + quote(" " + shapes[0] + count));
        } else if (shapes.length) {
          attrs.push(labelKey + "=" + quote(" " + m.count + " tensors"));
        }
        if (m.count > 1 && a !== b) { attrs.push("penwidth=" + Math.min(1 + 0.4 * (m.count - 1), 4).toFixed(1)); }
        if (kind === "call" || kind === "return") {
          attrs.push("style=dotted", 'color="#525252"');
          if (kind === "return") { attrs.push("constraint=false"); }
        } else if (kind === "enter" || kind === "exit" || kind === "condition") {
          attrs.push('color="#8c510a"');  // a v2 loop's way in, out and its test (dot.py's loop_io)
        }
        if (back) {
          attrs.push("dir=back", 'color="#d94801"', "penwidth=1.6");
          out.push("  " + dotId(b) + " -> " + dotId(a) + " [" + attrs.join(", ") + "];");
          return;
        }
        out.push("  " + dotId(a) + " -> " + dotId(b) + (attrs.length ? " [" + attrs.join(", ") + "];" : ";"));
      });
      out.push("}");
      return { dot: out.join("\n") + "\n", boxes: order.length };
    }
    self.assemble = assemble;

    // ---- putting an SVG in the view
    function install(source, alias) {
      // source: Graphviz's SVG text, or an svg element (a pre-rendered level); alias: {title: id}
      // of the boxes and clusters whose <title> is not their id
      function idOf(title) { return alias.hasOwnProperty(title) ? alias[title] : title; }
      view.querySelectorAll("svg.rg-graph").forEach(function (s) { s.remove(); });
      if (!st.size) { measure(); }
      var svg = source;
      if (typeof source === "string") {
        var holder = document.createElement("div");
        holder.innerHTML = source.slice(source.indexOf("\u003csvg"));
        svg = holder.querySelector("svg");
      }
      svg.classList.add("rg-graph");
      view.insertBefore(svg, view.firstChild);
      var vb = svg.viewBox.baseVal;
      st.home = [vb.x, vb.y, vb.width, vb.height];
      svg.removeAttribute("width");
      svg.removeAttribute("height");
      svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
      var g0 = svg.querySelector("g.graph");
      if (g0) { g0.id = st.uid + "-graph"; }
      st.svg = svg;
      st.boxEls = {};
      svg.querySelectorAll("g.node").forEach(function (g) {
        var t = g.querySelector("title");
        if (t) { var id = idOf(t.textContent); st.boxEls[id] = g; g.setAttribute("data-box", id); }
      });
      st.clusters = {};
      svg.querySelectorAll("g.cluster").forEach(function (g) {
        var id = idOf((g.querySelector("title") || {}).textContent || "");
        if (id.indexOf("cluster::") === 0) {
          var scope = id.slice(9);
          st.clusters[scope] = g;
          g.setAttribute("data-scope", scope);
        }
      });
      st.edges = [];
      svg.querySelectorAll("g.edge").forEach(function (g) {
        // "a->b": the split where both ends are drawn boxes (a name may hold "->" itself)
        var text = (g.querySelector("title") || {}).textContent || "";
        for (var p = text.indexOf("->"); p >= 0; p = text.indexOf("->", p + 1)) {
          var a = idOf(text.slice(0, p)), b = idOf(text.slice(p + 2));
          if (st.boxEls[a] && st.boxEls[b]) { st.edges.push({ g: g, a: a, b: b }); break; }
        }
      });
    }

    function showLevel(k) {
      var tpl = document.getElementById("rg-level-" + k);
      install(document.importNode(tpl.content, true).querySelector("svg"), levels[k].alias || {});
      st.level = k;
      root.setAttribute("data-level", String(k));
      setViewBox(st.home.slice());
      applyMarks();
    }

    // ---- pan and zoom (on the SVG's viewBox)
    // The view's size, measured while it holds no drawing (the drawing is sized to it, so this
    // never forces the browser to lay out a large SVG before the page is ready); again on resize.
    function measure() { var r = view.getBoundingClientRect(); st.size = [Math.max(r.width, 1), Math.max(r.height, 1)]; }
    function viewSize() { if (!st.size) { measure(); } return st.size; }
    window.addEventListener("resize", function () { st.size = null; });
    function setViewBox(v) {
      var size = viewSize();
      // keep the viewBox's aspect the view's, so one unit is as wide as it is high on screen
      var w = Math.max(v[2], v[3] * size[0] / size[1]), h = w * size[1] / size[0];
      v = [v[0] + (v[2] - w) / 2, v[1] + (v[3] - h) / 2, w, h];
      st.vb = v;
      st.svg.setAttribute("viewBox", v.join(" "));
      drawMiniRect();
    }
    function scale() { return viewSize()[0] / st.vb[2]; }  // screen px per point
    self.scale = scale;
    function toSvg(x, y) {
      var pt = st.svg.createSVGPoint();
      pt.x = x; pt.y = y;
      return pt.matrixTransform(st.svg.getScreenCTM().inverse());
    }
    function zoomAt(x, y, factor) {
      var p = toSvg(x, y), v = st.vb;
      setViewBox([p.x - (p.x - v[0]) * factor, p.y - (p.y - v[1]) * factor, v[2] * factor, v[3] * factor]);
    }
    function svgRect(element) {
      var r = element.getBoundingClientRect();
      var a = toSvg(r.left, r.top), b = toSvg(r.right, r.bottom);
      return [a.x, a.y, b.x, b.y];
    }
    function zoomTo(element, minWidth) {
      var r = svgRect(element), size = viewSize();
      var w = Math.max((r[2] - r[0]) * 2.5, minWidth || 800);
      w = Math.min(w, size[0] / MIN_SCALE * 2);
      var h = w * size[1] / size[0];
      setViewBox([(r[0] + r[2]) / 2 - w / 2, (r[1] + r[3]) / 2 - h / 2, w, h]);
    }
    function readableView() {
      // the whole drawing if its labels stay readable, else its top at MIN_SCALE
      var size = viewSize(), h = st.home;
      var fit = Math.min(size[0] / h[2], size[1] / h[3]);
      if (fit >= MIN_SCALE) { setViewBox(h.slice()); return; }
      var w = size[0] / MIN_SCALE, hh = size[1] / MIN_SCALE;
      setViewBox([h[0] + h[2] / 2 - w / 2, h[1], w, hh]);
      // centred on the loop or the cell (data.start), when it is drawn
      var start = data.start && byName.hasOwnProperty(data.start) ? boxOf(byName[data.start]) : null;
      if (start !== null && st.boxEls[start]) { centerOn(st.boxEls[start]); }
      centreOnGates();
    }
    function centreOnGates(fit) {
      // all the cell's gates together (data.gates), their top kept in view; false if none is drawn.
      // fit: zoom to show them all (never below MIN_SCALE, never closer than 400 points across)
      var rects = (data.gates || []).map(function (name) {
        var box = byName.hasOwnProperty(name) ? boxOf(byName[name]) : null;
        return box !== null && st.boxEls[box] ? svgRect(st.boxEls[box]) : null;
      }).filter(function (r) { return r; });
      if (rects.length) {
        var x0 = Math.min.apply(null, rects.map(function (r) { return r[0]; }));
        var y0 = Math.min.apply(null, rects.map(function (r) { return r[1]; }));
        var x1 = Math.max.apply(null, rects.map(function (r) { return r[2]; }));
        var y1 = Math.max.apply(null, rects.map(function (r) { return r[3]; }));
        var v = st.vb;
        if (fit) {
          var size = viewSize(), aspect = size[0] / size[1];
          var w = Math.max((x1 - x0) * 1.2 + 40, ((y1 - y0) * 1.2 + 40) * aspect, 400);
          w = Math.min(w, size[0] / MIN_SCALE);
          v = [v[0], v[1], w, w * size[1] / size[0]];
        }
        var top = Math.min((y0 + y1) / 2 - v[3] / 2, y0 - 20);
        setViewBox([(x0 + x1) / 2 - v[2] / 2, top, v[2], v[3]]);
      }
      return rects.length > 0;
    }
    function gatesShown() {
      return (data.gates || []).some(function (name) {
        var box = byName.hasOwnProperty(name) ? boxOf(byName[name]) : null;
        return box !== null && box.indexOf("scope::") !== 0;
      });
    }
    view.addEventListener("wheel", function (e) {
      e.preventDefault();
      zoomAt(e.clientX, e.clientY, Math.min(Math.max(Math.exp(e.deltaY * 0.0015), 0.5), 2));
    }, { passive: false });
    view.addEventListener("mousedown", function (e) {
      if (e.button !== 0 || (e.target.closest && e.target.closest(".rg-mini"))) { return; }
      st.drag = { x: e.clientX, y: e.clientY, vb: st.vb.slice(), scale: scale() };
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

    // ---- minimap: the drawing again, small (an SVG <use> of the main one), and the view on it
    var mini = null;
    function buildMini() {
      if (mini) { mini.remove(); mini = null; }
      if (!scene || !st.svg) { return; }
      var ns = "http://www.w3.org/2000/svg";
      mini = document.createElementNS(ns, "svg");
      mini.setAttribute("class", "rg-mini");
      mini.setAttribute("viewBox", st.home.join(" "));
      var use = document.createElementNS(ns, "use");
      use.setAttribute("href", "#" + st.uid + "-graph");
      mini.appendChild(use);
      var rect = document.createElementNS(ns, "rect");
      rect.setAttribute("class", "rg-mini-view");
      mini.appendChild(rect);
      var w = 180, h = Math.max(40, Math.min(180, w * st.home[3] / st.home[2]));
      mini.style.width = w + "px";
      mini.style.height = h + "px";
      view.appendChild(mini);
      function jump(e) {
        var r = mini.getBoundingClientRect(), hm = st.home;
        var s = Math.max(hm[2] / r.width, hm[3] / r.height);
        var x = hm[0] + hm[2] / 2 + (e.clientX - r.left - r.width / 2) * s;
        var y = hm[1] + hm[3] / 2 + (e.clientY - r.top - r.height / 2) * s;
        setViewBox([x - st.vb[2] / 2, y - st.vb[3] / 2, st.vb[2], st.vb[3]]);
      }
      mini.addEventListener("mousedown", function (e) { e.stopPropagation(); jump(e); st.miniDrag = true; });
      window.addEventListener("mousemove", function (e) { if (st.miniDrag) { jump(e); } });
      window.addEventListener("mouseup", function () { st.miniDrag = false; });
      drawMiniRect();
    }
    function drawMiniRect() {
      if (!mini || !st.vb) { return; }
      // the whole drawing in view (fit): the minimap would only cover part of it
      var v = st.vb, hm = st.home;
      mini.style.display = v[0] <= hm[0] + 1 && v[1] <= hm[1] + 1 && v[0] + v[2] >= hm[0] + hm[2] - 1 &&
        v[1] + v[3] >= hm[1] + hm[3] - 1 ? "none" : "";
      var rect = mini.querySelector("rect");
      rect.setAttribute("x", st.vb[0]); rect.setAttribute("y", st.vb[1]);
      rect.setAttribute("width", st.vb[2]); rect.setAttribute("height", st.vb[3]);
    }

    // ---- laying out what is open now
    function relayout(anchor) {
      // anchor: {scope, x, y}: keep that scope's cluster (or box) where the clicked box was on screen
      var drawn = assemble();
      if (drawn.boxes > MAX_BOXES) {
        return Promise.reject(new Error(drawn.boxes + " boxes is too many to lay out here"));
      }
      var keepScale = st.vb ? scale() : null;
      var t0 = performance.now();
      st.busy = true;
      root.classList.add("rg-busy");
      return getEngine().then(function (gv) {
        var svg = layoutOf(gv, drawn.dot);
        var t1 = performance.now();
        install(svg, titleIds);
        var placed = false;
        if (anchor && keepScale) {
          var target = st.clusters[anchor.scope] || st.boxEls[anchor.box];
          if (target) {
            var size = viewSize(), w = size[0] / keepScale, h = size[1] / keepScale;
            setViewBox([0, 0, w, h]);  // a provisional view to measure in
            var r = svgRect(target), vr = view.getBoundingClientRect();
            // the opened scope's top centre where the clicked box was, moved to fit in the view
            var left = (r[0] + r[2]) / 2 - (anchor.x - vr.left) / keepScale;
            left = Math.min(left, r[0] - 10 / keepScale);
            if (r[2] - r[0] < w - 20 / keepScale) { left = Math.max(left, r[2] + 10 / keepScale - w); }
            var top = Math.min(r[1] - (anchor.y - vr.top) / keepScale, r[1] - 10 / keepScale);
            setViewBox([left, top, w, h]);
            placed = true;
          }
        }
        if (!placed) { readableView(); }
        buildMini();
        applyMarks();
        st.layouts += 1;
        st.busy = false;
        root.classList.remove("rg-busy");
        root.setAttribute("data-layouts", String(st.layouts));
        root.setAttribute("data-boxes", String(drawn.boxes));
        root.setAttribute("data-layout-ms", String(Math.round(t1 - t0)));
        renderCrumbs();
        saveState();
        root.dispatchEvent(new CustomEvent("rg-layout", { detail: { viewer: self, ms: t1 - t0 } }));
        prefetch();
      }, function (err) {
        st.busy = false;
        root.classList.remove("rg-busy");
        throw err;
      });
    }
    self.relayout = relayout;

    // Layouts already made, by DOT text; while the page is idle, the scopes one click away are
    // laid out ahead (smallest first), so opening one usually costs no layout at all.
    var made = {}, madeOrder = [], prefetchTimer = null;
    function layoutOf(gv, dot) {
      if (made.hasOwnProperty(dot)) { return made[dot]; }
      var svg = gv.layout(dot, "svg", "dot");
      made[dot] = svg;
      madeOrder.push(dot);
      if (madeOrder.length > 24) { delete made[madeOrder.shift()]; }
      return svg;
    }
    function prefetch() {
      clearTimeout(prefetchTimer);
      var next = Object.keys(st.boxEls).filter(function (b) { return b.indexOf("scope::") === 0; })
        .map(function (b) { return b.slice(7); })
        .sort(function (a, b) { return scene.scopes[a][2] - scene.scopes[b][2]; }).slice(0, 6);
      function step() {
        if (!next.length) { return; }
        if (st.busy || st.drag) { prefetchTimer = setTimeout(step, 200); return; }
        var scope = next.shift(), saved = st.open;
        st.open = Object.assign({}, saved);
        chain(scope).forEach(function (s) { st.open[s] = true; });
        var drawn = assemble();
        st.open = saved;
        if (drawn.boxes <= MAX_BOXES && !made.hasOwnProperty(drawn.dot)) {
          getEngine().then(function (gv) { layoutOf(gv, drawn.dot); });
        }
        prefetchTimer = setTimeout(step, 60);
      }
      prefetchTimer = setTimeout(step, 120);
    }

    function openScope(scope, anchorEl) {
      var before = Object.assign({}, st.open);
      // data.gatesOnOpen (the linked Keras page): opening the box that hid the cell brings its gates in view
      var hidden = data.gatesOnOpen && !gatesShown();
      chain(scope).forEach(function (s) { st.open[s] = true; });
      var anchor = null;
      if (anchorEl) {
        var r = anchorEl.getBoundingClientRect();
        anchor = { scope: scope, x: (r.left + r.right) / 2, y: r.top };
      }
      return relayout(anchor).then(function () {
        if (hidden && gatesShown()) { centreOnGates(true); drawMiniRect(); }
        setStatus("opened " + scope);
      }, function (err) {
        st.open = before;
        setStatus("cannot open " + scope + ": " + err.message);
      });
    }
    function closeScope(scope) {
      delete st.open[scope];
      var g = st.clusters[scope], anchor = null;
      if (g) { var r = g.getBoundingClientRect(); anchor = { box: "scope::" + scope, x: (r.left + r.right) / 2, y: r.top }; }
      return relayout(anchor).then(function () { setStatus("closed " + scope); });
    }
    self.openScope = openScope;
    self.closeScope = closeScope;
    function enterFunction(scope) {
      st.roots.push(scope);
      st.open[scope] = true;
      return relayout(null).then(function () { setStatus("in " + scope); });
    }
    function leaveFunction(depth) {
      st.roots = st.roots.slice(0, depth);
      return relayout(null);
    }
    self.enterFunction = enterFunction;
    self.leaveFunction = leaveFunction;

    // ---- function calls left closed (past the expansion budget, or recursive: draw/lazycalls.py)
    // data.lazy.templates holds each function's body once, keyed by its name, made for a
    // stand-in caller (lazy.caller) and role (lazy.role); opening a call copies the template
    // under it, wires the call to the body's arguments and its results back (as walk does for
    // the calls it expands), and lays out again.  The body's own calls stay closed: a recursive
    // function opens one level per click.
    var lazy = data.lazy && data.lazy.templates ? data.lazy : null;
    function closedCalls(name) { return lazy && lazy.calls.hasOwnProperty(name) ? lazy.calls[name] : []; }
    self.closedCalls = closedCalls;
    function plainKey(text) {
      // a key viewer.js writes into DOT as "key" as it stands (scene.py: odd_ids for the others)
      return /^[\x20-\x7e]*$/.test(text) && !/[\\"&]/.test(text) && text.length < 3000;
    }
    function stripLines(statement) {
      lazy.lines.forEach(function (line) {
        statement = statement.split("\\n" + line).join("").split('label="' + line + '"').join('label=""');
      });
      return statement;
    }
    function instantiate(i, role) {
      var caller = nodes[i].n, calls = closedCalls(caller), call = null;
      calls.forEach(function (c) { if (c[0] === role && !call) { call = c; } });
      if (!call) { throw new Error(caller + " has no closed call for " + role); }
      var t = lazy.templates[call[1]], prefix = caller + "/" + role + "::";
      if (!plainKey(prefix)) { throw new Error("its name holds characters the page cannot place"); }
      var token = lazy.caller + "/" + lazy.role + "::", short = caller.slice(caller.lastIndexOf("/") + 1) || caller;
      var tokens = new RegExp("scope::" + lazy.caller + '(?=")|' + token.replace(/\//g, "\\/") + "|" +
                              lazy.role + "|" + lazy.caller, "g");
      function sub(text) {
        return text.replace(tokens, function (m) {
          if (m === token) { return prefix; }
          if (m === lazy.role) { return role; }
          if (m === lazy.caller) { return short; }
          return "scope::" + caller;
        });
      }
      function key(text) { return text === lazy.caller ? caller : prefix + text.slice(token.length); }
      var nodeBase = nodes.length, boxBase = scene.boxes.length;
      t.nodes.forEach(function (n) {
        byName[key(n.n)] = nodes.length;
        nodes.push({ n: key(n.n), o: n.o, d: n.d, f: nodes[i].f, a: n.a, t: n.t, s: [],
                     i: n.i.map(function (inp) { return [inp[0] + nodeBase].concat(inp.slice(1)); }) });
        consumers.push([]);
      });
      for (var j = nodeBase; j < nodes.length; j++) {
        nodes[j].i.forEach(function (inp) { consumers[inp[0]].push([j, inp[1], inp[2]]); });
      }
      Object.keys(t.ops).forEach(function (op) { if (!data.ops[op]) { data.ops[op] = t.ops[op]; } });
      t.boxes.forEach(function (b) {
        boxIndex[key(b[0])] = scene.boxes.length;
        scene.boxes.push([key(b[0]), sub(b[1]), key(b[2]), sub(b[3])]);
      });
      t.node.forEach(function (k) { scene.node.push(k < 0 ? -1 : k + boxBase); });
      Object.keys(t.folds).forEach(function (k) {
        scene.folds[String(Number(k) + boxBase)] = [t.folds[k][0].map(function (c) { return c + boxBase; }),
                                                    t.folds[k][1].map(sub)];
      });
      Object.keys(t.folded).forEach(function (k) { scene.folded[String(Number(k) + boxBase)] = t.folded[k] + boxBase; });
      t.edges.forEach(function (e) { scene.edges.push([e[0] + boxBase, e[1] + boxBase].concat(e.slice(2))); });
      Object.keys(t.ids).forEach(function (id) {
        var spelled = [sub(t.ids[id][0]), sub(t.ids[id][1])];
        odd[id.split(token).join(prefix)] = spelled;
        titleIds[spelled[1]] = id.split(token).join(prefix);
      });
      Object.keys(t.scopes).forEach(function (s) {
        if (!scene.scopes[key(s)]) { scene.scopes[key(s)] = [sub(t.scopes[s][0]), sub(t.scopes[s][1]), t.scopes[s][2]]; }
      });
      // walk's wiring: the call's inputs flow into the body's arguments, its results back out
      var callerBox = scene.node[i];
      t.args.forEach(function (a, k) {
        nodes[nodeBase + a].i.push([i, k, 0, nodes[nodeBase + a].t[0] || "", 0]);
        consumers[i].push([nodeBase + a, k, 0]);
        var box = scene.node[nodeBase + a];
        if (callerBox >= 0 && box >= 0) { scene.edges.push([callerBox, box, 0, "call", 0, [nodes[nodeBase + a].t[0] || "?"], 1]); }
      });
      t.rets.forEach(function (r, k) {
        nodes[i].i.push([nodeBase + r, 0, 0, nodes[nodeBase + r].t[0] || "", 0]);
        consumers[nodeBase + r].push([i, k, 0]);
        var box = scene.node[nodeBase + r];
        if (callerBox >= 0 && box >= 0) { scene.edges.push([box, callerBox, 0, "return", 0, [nodes[nodeBase + r].t[0] || "?"], 1]); }
      });
      Object.keys(t.calls).forEach(function (name) {
        lazy.calls[key(name)] = t.calls[name].map(function (c) { return c.slice(); });
      });
      scene.functions[caller] = (scene.functions[caller] || []).concat([[role, prefix, call[1]]]);
      calls.splice(calls.indexOf(call), 1);
      if (!calls.length) {
        delete lazy.calls[caller];
        if (callerBox >= 0 && scene.boxes[callerBox][0] === caller) {
          scene.boxes[callerBox][1] = stripLines(scene.boxes[callerBox][1]);
          var fold = scene.folds[callerBox];
          if (fold) { fold[1] = fold[1].map(stripLines); }
        }
      }
      return prefix;
    }
    function openCall(i, role, anchorEl) {
      // open the closed call of node i for role (its first closed one if not given)
      var calls = closedCalls(nodes[i].n);
      if (!calls.length) { return Promise.resolve(); }
      role = role || calls[0][0];
      var recursive = calls.some(function (c) { return c[0] === role && c[2]; }), body;
      try {
        body = instantiate(i, role);
      } catch (err) {
        setStatus("cannot open " + nodes[i].n + ": " + err.message);
        return Promise.resolve();
      }
      var before = Object.assign({}, st.open);
      chain(body).forEach(function (s) { st.open[s] = true; });
      var anchor = null;
      if (anchorEl) {
        var r = anchorEl.getBoundingClientRect();
        anchor = { scope: body, x: (r.left + r.right) / 2, y: r.top };
      }
      return relayout(anchor).then(function () {
        if (st.selected === i) { showPanel(i); }  // its body is now listed to enter
        setStatus("opened " + body + (recursive ? " (recursive: one level)" : ""));
      }, function (err) {
        st.open = before;  // the body stays, closed: its scope's box
        return relayout(null).then(function () {
          setStatus("opened " + body + " closed (" + err.message + ")");
        }, function () { setStatus("cannot lay out " + body + ": " + err.message); });
      });
    }
    self.openCall = openCall;

    function renderCrumbs() {
      var crumbs = q("crumbs");
      if (!crumbs) { return; }
      crumbs.textContent = "";
      if (!st.roots.length) { return; }
      var top = el("span", "graph", "rg-link rg-crumb");
      top.setAttribute("data-depth", "0");
      crumbs.appendChild(top);
      st.roots.forEach(function (r, k) {
        crumbs.appendChild(document.createTextNode(" › "));
        var c = el("span", r, k === st.roots.length - 1 ? "rg-crumb rg-here" : "rg-link rg-crumb");
        c.setAttribute("data-depth", String(k + 1));
        crumbs.appendChild(c);
      });
    }

    // ---- the view in the URL: #open=a,b&sel=node&in=function scope|nested
    function saveState() {
      if (!options.urlState || !scene) { return; }
      var parts = ["open=" + Object.keys(st.open).sort().map(encodeURIComponent).join(",")];
      if (st.selected >= 0) { parts.push("sel=" + encodeURIComponent(nodes[st.selected].n)); }
      if (st.roots.length) { parts.push("in=" + st.roots.map(encodeURIComponent).join("|")); }
      try { history.replaceState(null, "", "#" + parts.join("&")); } catch (e) { /* sandboxed */ }
    }
    function loadState() {
      var hash = location.hash.slice(1), sel = null;
      if (!options.urlState || !hash) { return null; }
      hash.split("&").forEach(function (p) {
        var k = p.indexOf("="), key = p.slice(0, k), value = p.slice(k + 1);
        if (key === "open") {
          st.open = {};
          value.split(",").forEach(function (s) { if (s) { st.open[decodeURIComponent(s)] = true; } });
        } else if (key === "sel") {
          sel = decodeURIComponent(value);
        } else if (key === "in") {
          st.roots = value.split("|").map(decodeURIComponent).filter(function (s) { return scene.scopes[s]; });
        }
      });
      return sel;
    }

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
      if (!st.svg) { return; }
      mark("rg-hit", st.hits);
      mark("rg-sel", st.selected >= 0 ? [st.selected] : []);
      mark("rg-partner", st.partner || []);
      var traced = mark("rg-trace", st.trace || []);
      st.edges.forEach(function (e) { e.g.classList.toggle("rg-trace", !!(traced[e.a] && traced[e.b])); });
      view.classList.toggle("rg-tracing", !!st.trace);
      if (options.onMarks) { options.onMarks(self); }
    }
    self.applyMarks = applyMarks;
    self.setPartner = function (indices) {
      st.partner = indices;
      applyMarks();
      var first = view.querySelector("svg.rg-graph g.node.rg-partner");
      if (first) { centerOn(first); }
    };
    function centerOn(element) {
      // bring a box into the middle of the view, at the same zoom
      var r = svgRect(element);
      setViewBox([(r[0] + r[2]) / 2 - st.vb[2] / 2, (r[1] + r[3]) / 2 - st.vb[3] / 2, st.vb[2], st.vb[3]]);
    }
    self.panel = panel;
    self.nodeLink = function (i) { return nodeLink(i); };

    // ---- search
    function runSearch() {
      var text = search.value.trim().toLowerCase();
      st.hits = [];
      if (text) {
        nodes.forEach(function (n, i) {
          if (n.n.toLowerCase().indexOf(text) >= 0 || displayName(n).toLowerCase().indexOf(text) >= 0 ||
              n.o.toLowerCase().indexOf(text) >= 0) { st.hits.push(i); }
        });
      }
      applyMarks();
      if (!text) { setStatus(""); return; }
      var shown = {};
      st.hits.forEach(function (i) { var b = boxOf(i); if (b !== null) { shown[b] = true; } });
      setStatus(st.hits.length + " match" + (st.hits.length === 1 ? "" : "es") +
        " in " + Object.keys(shown).length + " box" + (Object.keys(shown).length === 1 ? "" : "es"));
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
    if (search) {
      var searchTimer = null;
      search.addEventListener("input", function () {
        clearTimeout(searchTimer);
        searchTimer = setTimeout(runSearch, 250);
      });
      search.addEventListener("keydown", function (e) {
        if (e.key === "Enter") { clearTimeout(searchTimer); runSearch(); }
        if (e.key === "Escape") { search.value = ""; runSearch(); search.blur(); view.focus(); }
      });
    }

    // ---- selecting a node
    function nodeLink(i, cls) {
      var a = el("span", displayName(nodes[i]), "rg-link" + (cls ? " " + cls : ""));
      a.setAttribute("data-node", String(i));
      return a;
    }
    function levelShowing(i) {
      for (var k = 0; k < levels.length; k++) {
        var lv = levels[k], b = lv.box[i];
        if (b >= 0 && lv.boxes[b] === nodes[i].n) { return k; }
      }
      return -1;
    }
    function reveal(i) {
      // open (in place) what hides node i; leave a function body it is not in
      if (!scene) {
        if (boxOf(i) !== nodes[i].n) {
          var k = levelShowing(i);
          if (k >= 0 && k !== st.level) { showLevel(k); }
        }
        return Promise.resolve();
      }
      var leaf = scene.node[i];
      if (leaf < 0) { return Promise.resolve(); }
      var cluster = scene.boxes[leaf][2], changed = false;
      while (st.roots.length && !under(cluster, currentRoot())) { st.roots.pop(); changed = true; }
      chain(cluster).forEach(function (s) { if (!st.open[s]) { st.open[s] = true; changed = true; } });
      return changed ? relayout(null) : Promise.resolve();
    }
    function select(i, show) {
      st.selected = i;
      st.trace = null;
      if (traceButton) { traceButton.disabled = i < 0; }
      var done = show && i >= 0 ? reveal(i) : Promise.resolve();
      return done.then(function () {
        applyMarks();
        if (i < 0) { return; }
        showPanel(i);
        var box = boxOf(i);
        if (show && box !== null && st.boxEls[box]) { zoomTo(st.boxEls[box]); }
        setStatus(displayName(nodes[i]));
        saveState();
        if (options.onSelect) { options.onSelect(self, i); }
      });
    }
    self.select = select;
    function section(title) { panel.appendChild(el("h3", title)); }
    function showPanel(i) {
      var n = nodes[i];
      panel.textContent = "";
      panel.appendChild(el("h2", displayName(n).split("/").pop().split("\u00a0▸\u00a0").pop()));
      panel.appendChild(el("p", displayName(n), "rg-full"));
      var dl = el("dl");
      [["op", n.o], ["device", n.d || "(none)"], ["while frame", n.f || "(none)"]].forEach(function (row) {
        dl.appendChild(el("dt", row[0]));
        dl.appendChild(el("dd", row[1]));
      });
      panel.appendChild(dl);
      panel.appendChild(el("p", data.ops[n.o] || "", "rg-desc"));
      var fns = scene && scene.functions[n.n];
      if (fns) {
        section("Function bodies");
        fns.forEach(function (f) {
          var b = el("button", "enter " + f[0] + " (" + f[2] + ")", "rg-enter");
          b.type = "button";
          b.setAttribute("data-scope", f[1]);
          panel.appendChild(b);
        });
        panel.appendChild(el("p", "Enter opens the first; Esc comes back.", "rg-hint"));
      }
      var closed = closedCalls(n.n);
      if (closed.length) {
        section("Closed calls");
        closed.forEach(function (c) {
          var b = el("button", "open " + c[0] + " (" + c[1] + (c[2] ? ", recursive: one level" : "") + ")", "rg-open-call");
          b.type = "button";
          b.setAttribute("data-node", String(i));
          b.setAttribute("data-role", c[0]);
          panel.appendChild(b);
        });
        panel.appendChild(el("p", "Not expanded when the page was made (the file's expansion budget, or a " +
          "recursion): opening one adds its body here, its own calls closed.", "rg-hint"));
      }
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
      // Hook for other scripts of the page (overlays, step-through): fn(viewer, node index, panel)
      (window.rgPanelHooks || []).forEach(function (fn) { fn(self, i, panel); });
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

    // ---- collapsed scopes of pre-rendered pages (only --full pages have levels)
    function expandLevel(box) {
      listMembers(box, box.slice(7), "too many to lay out one by one");
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
      setStatus(displayName(nodes[st.selected]) + " depends on " + (order.length - 1) + " node(s)");
      section("Depends on " + (order.length - 1) + " node(s); its sources:");
      var ul = el("ul");
      sources.forEach(function (i) {
        var li = el("li"); li.appendChild(nodeLink(i)); li.appendChild(document.createTextNode(" (" + nodes[i].o + ")"));
        ul.appendChild(li);
      });
      panel.appendChild(ul);
      panel.appendChild(el("p", "Loop back edges (NextIteration → Merge) are not followed.", "rg-hint"));
    }
    function clearAll() {
      st.selected = -1; st.trace = null; st.hits = [];
      if (search) { search.value = ""; }
      if (traceButton) { traceButton.disabled = true; }
      setStatus(""); applyMarks(); saveState();
    }
    self.clearAll = clearAll;

    // ---- export the current drawing
    function download(name, blob) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = name;
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }
    function svgText() {
      var copy = st.svg.cloneNode(true);
      copy.setAttribute("viewBox", st.home.join(" "));
      copy.setAttribute("width", st.home[2] + "pt");
      copy.setAttribute("height", st.home[3] + "pt");
      copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
      copy.querySelectorAll(".rg-hit, .rg-sel, .rg-trace").forEach(function (g) {
        g.classList.remove("rg-hit", "rg-sel", "rg-trace");
      });
      return new XMLSerializer().serializeToString(copy);
    }
    self.svgText = svgText;
    function exportSvg() { download("rnngraph-view.svg", new Blob([svgText()], { type: "image/svg+xml" })); }
    function exportPng() {
      var img = new Image(), factor = Math.min(2, 8000 / Math.max(st.home[2], st.home[3]));
      img.onload = function () {
        var canvas = document.createElement("canvas");
        canvas.width = Math.ceil(st.home[2] * factor);
        canvas.height = Math.ceil(st.home[3] * factor);
        var ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff";
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) { download("rnngraph-view.png", blob); }, "image/png");
      };
      img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svgText());
    }

    // ---- wiring
    view.addEventListener("click", function (e) {
      if (st.dragged) { st.dragged = false; return; }
      if (st.busy) { return; }
      var g = e.target.closest ? e.target.closest("g.node") : null;
      if (!g) {
        var c = e.target.closest ? e.target.closest("g.cluster") : null;
        if (c && scene && e.target.tagName === "text") { closeScope(c.getAttribute("data-scope")); }
        return;
      }
      var box = g.getAttribute("data-box") || "";
      if (box.indexOf("scope::") === 0) {
        if (scene) { openScope(box.slice(7), g); } else { expandLevel(box); }
        return;
      }
      if (byName.hasOwnProperty(box) && closedCalls(box).length) { openCall(byName[box], null, g); return; }
      if (byName.hasOwnProperty(box)) { select(byName[box], false); return; }
      listMembers(box, box.replace(/^[a-z]+::/, ""), "grouped into this box");
    });
    view.addEventListener("mouseover", function (e) {
      st.hover = e.target.closest ? e.target.closest("g.node") : null;
    });
    panel.addEventListener("click", function (e) {
      var t = e.target;
      if (t.hasAttribute && t.hasAttribute("data-node")) { select(Number(t.getAttribute("data-node")), true); }
      if (t.classList && t.classList.contains("rg-enter")) { enterFunction(t.getAttribute("data-scope")); }
      if (t.classList && t.classList.contains("rg-open-call")) {
        openCall(Number(t.getAttribute("data-node")), t.getAttribute("data-role"), null);
      }
    });
    var crumbsEl = q("crumbs");
    if (crumbsEl) {
      crumbsEl.addEventListener("click", function (e) {
        var d = e.target.getAttribute && e.target.getAttribute("data-depth");
        if (d !== null && d !== undefined && Number(d) < st.roots.length) { leaveFunction(Number(d)); }
      });
    }
    function on(name, handler) { var b = q(name); if (b) { b.addEventListener("click", handler); } }
    if (traceButton) { traceButton.addEventListener("click", traceInputs); }
    on("fit", function () { setViewBox(st.home.slice()); });
    on("clear", clearAll);
    on("collapse", function () { st.open = {}; st.roots = []; relayout(null); });
    on("export-svg", exportSvg);
    on("export-png", exportPng);
    self.keydown = function (e) {
      var typing = document.activeElement === search;
      if (e.key === "/" && !typing && search) { e.preventDefault(); search.focus(); return; }
      if (typing) { return; }
      if (e.key === "Escape") {
        if (st.trace || st.hits.length || st.selected >= 0) { clearAll(); } else if (st.roots.length) { leaveFunction(st.roots.length - 1); }
      } else if (e.key === "Enter" && scene && !st.busy) {
        // the collapsed scope under the pointer opens; else the selected call's first function body
        var fns = st.selected >= 0 ? scene.functions[nodes[st.selected].n] : null;
        if (st.hover && st.hover.getAttribute("data-box").indexOf("scope::") === 0 && view.contains(st.hover)) {
          openScope(st.hover.getAttribute("data-box").slice(7), st.hover);
        } else if (fns) {
          enterFunction(fns[0][1]);
        }
      }
    };

    // ---- start
    self.start = function () {
      if (!scene) {
        showLevel(Number(root.getAttribute("data-initial")) || 0);
        root.setAttribute("data-ready", "1");
        return Promise.resolve();
      }
      var sel = loadState();
      return relayout(null).then(function () {
        if (sel !== null && byName.hasOwnProperty(sel)) { return select(byName[sel], true); }
      }).then(function () { root.setAttribute("data-ready", "1"); }, function (err) {
        setStatus("layout failed: " + err.message);
        root.setAttribute("data-ready", "error");
      });
    };
    self.legend = function (box) {
      if (!scene || !scene.legend.length) { return; }
      var div = el("details", null, "rg-legend");
      div.appendChild(el("summary", "legend"));
      scene.legend.forEach(function (row) {
        var line = el("div");
        var swatch = el("span", null, "rg-swatch");
        swatch.style.background = row[1];
        line.appendChild(swatch);
        line.appendChild(document.createTextNode(row[0]));
        div.appendChild(line);
      });
      (scene.edge_legend || []).forEach(function (row) {
        var line = el("div", row[0], "rg-l-edge");
        line.style.color = row[1];
        div.appendChild(line);
      });
      if (scene.hidden) { div.appendChild(el("div", scene.hidden, "rg-l-hidden")); }
      (box || view).appendChild(div);
    };
  }
  window.RgViewer = Viewer;

  // The page: one viewer over the whole body (compare pages start their own).
  var dataEl = document.getElementById("rg-data");
  if (!dataEl) { return; }
  var viewer = new Viewer(document.body, JSON.parse(dataEl.textContent), { urlState: true });
  window.rgViewers = [viewer];
  document.addEventListener("keydown", viewer.keydown);
  viewer.legend();
  viewer.start();
}());
