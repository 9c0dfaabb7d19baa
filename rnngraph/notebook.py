"""What a Graph shows in Jupyter: its diagram as compact inline SVG, with pan and zoom.

The full interactive page embeds the whole viewer (about 1 MB) in every output, so a
notebook with a few graphs grows by megabytes.  The default display is the SVG that
``render`` draws, with what only a file needs stripped (XML prolog, comments, digits
past the first decimal of a coordinate, the font repeated on every label), and a
small script: the wheel zooms, dragging pans, a double click fits the drawing again.
Node tooltips are the SVG's own.  Where scripts do not run (an untrusted notebook, a
static viewer) the same SVG still shows.  ``Graph.page()`` gives the interactive page
on request.
"""

from __future__ import annotations

import hashlib
import html
import re

__all__ = ["compact_svg", "notebook_html", "page_iframe", "VIEW_HEIGHT"]

VIEW_HEIGHT = 640  # px: the output area's height; the drawing is fitted into it

_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.S)
_LONG_DECIMAL = re.compile(r"(\d\.\d)\d+")
_POINT_ZERO = re.compile(r"(\d)\.0(?![\d])")
_FONT = ' font-family="Helvetica,sans-Serif"'
_MIDDLE = ' text-anchor="middle"'

# Pan and zoom by rewriting the viewBox (no library); %s is the output's element id.
_PAN_ZOOM = """(function(){var d=document.getElementById("%s");if(!d)return;
var s=d.querySelector("svg");if(!s)return;var v0=s.getAttribute("viewBox").split(/[ ,]+/).map(Number);
var v=v0.slice();s.setAttribute("width","100%%");s.setAttribute("height","%dpx");
function put(){s.setAttribute("viewBox",v.join(" "));}
function at(e){var r=s.getBoundingClientRect(),k=Math.max(v[2]/r.width,v[3]/r.height);
return[v[0]+(e.clientX-r.left-(r.width-v[2]/k)/2)*k,v[1]+(e.clientY-r.top-(r.height-v[3]/k)/2)*k,k];}
s.addEventListener("wheel",function(e){e.preventDefault();var p=at(e),f=e.deltaY<0?0.8:1.25;
v=[p[0]-(p[0]-v[0])*f,p[1]-(p[1]-v[1])*f,v[2]*f,v[3]*f];put();},{passive:false});
var drag=null;s.addEventListener("mousedown",function(e){drag=[e.clientX,e.clientY];});
window.addEventListener("mouseup",function(){drag=null;});
s.addEventListener("mousemove",function(e){if(!drag)return;var k=at(e)[2];
v[0]-=(e.clientX-drag[0])*k;v[1]-=(e.clientY-drag[1])*k;drag=[e.clientX,e.clientY];put();});
s.addEventListener("dblclick",function(){v=v0.slice();put();});})();"""


def compact_svg(svg: str) -> str:
    """Return Graphviz's SVG with what a display does not need removed (same drawing)."""
    text = _PROLOG.sub("", svg)
    text = _LONG_DECIMAL.sub(r"\1", text)  # 1/10 pt is finer than a screen pixel at 100%
    text = _POINT_ZERO.sub(r"\1", text)
    text = text.replace(_FONT, "").replace(_MIDDLE, "")
    text = re.sub(r">\s+<", "><", text).strip()
    # The attributes removed from every label, said once on the root (text inherits them).
    return text.replace("<svg ", '<svg style="font-family:Helvetica,sans-Serif" ', 1) \
        .replace("<g ", "<style>text{text-anchor:middle}</style><g ", 1)


def notebook_html(svg: str) -> str:
    """Return the default notebook display: the compact SVG and its pan/zoom script."""
    body = compact_svg(svg)
    uid = "rnngraph-" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]
    return (f'<div id="{uid}" title="wheel: zoom, drag: pan, double-click: fit" '
            f'style="max-height:{VIEW_HEIGHT}px;overflow:hidden;border:1px solid #ccc">{body}</div>'
            f"<script>{_PAN_ZOOM % (uid, VIEW_HEIGHT)}</script>")


def page_iframe(page: str) -> str:
    """Return the interactive page as a sandboxed iframe (what ``Graph.page()`` displays)."""
    return (f'<iframe srcdoc="{html.escape(page, quote=True)}" style="width:100%;height:{VIEW_HEIGHT}px;'
            f'border:1px solid #ccc" sandbox="allow-scripts"></iframe>')
