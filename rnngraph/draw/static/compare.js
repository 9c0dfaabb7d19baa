// rnngraph's comparison page: two viewers side by side; selecting a recognised part in one
// highlights its partner in the other (the links come from rnngraph.draw.pair).
(function () {
  "use strict";
  var links = JSON.parse(document.getElementById("rg-links").textContent);
  var sides = ["a", "b"];
  var viewers = sides.map(function (side) {
    return new window.RgViewer(document.getElementById("rg-pane-" + side),
      JSON.parse(document.getElementById("rg-data-" + side).textContent),
      { uid: "rg-" + side, onSelect: linked });
  });
  window.rgViewers = viewers;
  var active = viewers[0];

  function linked(viewer, i) {
    active = viewer;
    var k = viewers.indexOf(viewer), side = sides[k], other = viewers[1 - k], otherSide = sides[1 - k];
    var found = links.filter(function (l) { return l[side].indexOf(i) >= 0; });
    var partner = [];
    found.forEach(function (l) { l[otherSide].forEach(function (j) { if (partner.indexOf(j) < 0) { partner.push(j); } }); });
    other.setPartner(partner);
    viewer.setPartner([]);
    document.body.setAttribute("data-linked", String(found.length));
    if (!found.length) { return; }
    var box = document.createElement("div");
    box.className = "rg-linked";
    var head = document.createElement("b");
    head.textContent = "Linked in the other graph (highlighted there):";
    box.appendChild(head);
    found.forEach(function (l) {
      var line = document.createElement("div");
      line.textContent = l.t + " ";
      var go = document.createElement("span");
      go.className = "rg-link rg-partner-link";
      go.textContent = "show";
      go.addEventListener("click", function () {
        other.select(l[otherSide][0], true).then(function () { other.setPartner([]); viewer.setPartner(l[side]); });
      });
      line.appendChild(go);
      box.appendChild(line);
    });
    viewer.panel.insertBefore(box, viewer.panel.children[2] || null);
  }
  document.addEventListener("keydown", function (e) {
    var owner = viewers.filter(function (v) { return v.root.contains(document.activeElement); })[0];
    (owner || active).keydown(e);
  });
  viewers.forEach(function (v) {
    v.root.addEventListener("mousedown", function () { active = v; });
    v.legend();
  });
  Promise.all(viewers.map(function (v) { return v.start(); })).then(function () {
    document.body.setAttribute("data-ready", "1");
  });
}());
