"""What a Graph shows in Jupyter: its diagram as compact SVG, with pan and zoom.

The full interactive page embeds the whole viewer (about 1 MB) in every output, so a
notebook with a few graphs grows by megabytes.  The default display is the SVG that
``render`` draws, with what only a file needs stripped (XML prolog, comments, digits
past the first decimal of a coordinate, the font repeated on every label, entities
for characters XML allows as they are), held once, as the ``src`` of an image.  Where
the output's script runs (a notebook trusted by JupyterLab: one run here, or saved by
its user) it turns the image into inline SVG: node titles show on hover, the wheel
zooms, dragging pans, a double click fits the drawing again.  Where it does not (an
untrusted notebook, whose HTML JupyterLab sanitises: inline SVG, scripts and iframes
removed, ``data:`` images kept; a static viewer) the image stays, with a one-line note
that says why and what to do.  ``Graph.page()`` gives the interactive page on request,
in a sandboxed iframe, over the same fallback.
"""

from __future__ import annotations

import hashlib
import html
import re

__all__ = ["compact_svg", "svg_data_uri", "notebook_html", "page_iframe", "VIEW_HEIGHT",
           "STATIC_NOTE", "PAGE_NOTE"]

VIEW_HEIGHT = 640  # px: the output area's height; the drawing is fitted into it

_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.S)
_LONG_DECIMAL = re.compile(r"(\d\.\d)\d+")
_POINT_ZERO = re.compile(r"(\d)\.0(?![\d])")
_FONT = ' font-family="Helvetica,sans-Serif"'
_MIDDLE = ' text-anchor="middle"'
# Characters a data: URL in a single-quoted attribute cannot hold as they are.
_URI_ESCAPES = {"%": "%25", "#": "%23", "&": "%26", "'": "%27", "\n": "%0A", "\r": "%0D", "\t": "%09"}
_URI_UNSAFE = re.compile("[%#&'\n\r\t]")

_TRUST = "run the cell again, or trust the notebook (JupyterLab: Command Palette, Trust Notebook)"
STATIC_NOTE = ("Static picture: this output's script did not run (an untrusted notebook or a "
               f"static viewer), so no node details on hover, no pan or zoom; {_TRUST}.")
PAGE_NOTE = ("The interactive page is not shown: JupyterLab removes it from an untrusted "
             f"notebook (a static viewer may too). This is its diagram; {_TRUST}.")

# Turn the image into inline SVG (its titles hover), then pan and zoom by rewriting the
# viewBox (no library).  %s: the output's element id; %d: the view's height in px.
_PAN_ZOOM = """(function(){var c=document.currentScript,d=c&&c.previousElementSibling;
if(!d||d.id!=="%s")d=document.getElementById("%s");if(!d)return;
var im=d.querySelector("img.rg-diagram");if(im){var u=im.getAttribute("src");
var x=new DOMParser().parseFromString(decodeURIComponent(u.slice(u.indexOf(",")+1)),"image/svg+xml");
if(x.documentElement.nodeName!=="svg")return;im.replaceWith(document.importNode(x.documentElement,true));}
var n=d.querySelector(".rg-note");if(n)n.remove();
var s=d.querySelector("svg");if(!s)return;var v0=s.getAttribute("viewBox").split(/[ ,]+/).map(Number);
var v=v0.slice();s.setAttribute("width","100%%");s.setAttribute("height","%dpx");
s.style.width="100%%";s.style.height="%dpx";s.style.maxWidth="none";
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

# The page's output: its diagram and note give way to the iframe where scripts run.
_PAGE_SHOWN = """(function(){var c=document.currentScript,d=c&&c.previousElementSibling;
if(!d||d.id!=="%s")d=document.getElementById("%s");if(!d)return;
d.querySelectorAll(".rg-diagram,.rg-note").forEach(function(e){e.remove();});})();"""


def compact_svg(svg: str) -> str:
    """Return Graphviz's SVG with what a display does not need removed (same drawing)."""
    text = _PROLOG.sub("", svg)
    text = _LONG_DECIMAL.sub(r"\1", text)  # 1/10 pt is finer than a screen pixel at 100%
    text = _POINT_ZERO.sub(r"\1", text)
    text = text.replace(_FONT, "").replace(_MIDDLE, "")
    text = text.replace("&#45;", "-").replace("&gt;", ">")  # both legal as they are in XML
    text = re.sub(r">\s+<", "><", text).strip()
    # The attributes removed from every label, said once on the root (text inherits them).
    return text.replace("<svg ", '<svg style="font-family:Helvetica,sans-Serif" ', 1) \
        .replace("<g ", "<style>text{text-anchor:middle}</style><g ", 1)


def svg_data_uri(svg: str) -> str:
    """Return ``svg`` as a ``data:`` URL for a single-quoted HTML attribute (few escapes)."""
    return "data:image/svg+xml," + _URI_UNSAFE.sub(lambda m: _URI_ESCAPES[m.group()], svg)


def _output_id(kind: str, text: str) -> str:
    return f"rnngraph-{kind}-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _diagram(svg: str, note: str) -> str:
    """Return the note a static display keeps, and the compact SVG as an image under it."""
    return (f"<p class='rg-note' style='font-size:12px;color:#555;margin:4px 0'>{html.escape(note)}</p>"
            f"<img class='rg-diagram' alt='diagram of the graph' style='max-width:100%;"
            f"max-height:{VIEW_HEIGHT}px' src='{svg_data_uri(compact_svg(svg))}'>")


def notebook_html(svg: str) -> str:
    """Return the default notebook display: the compact SVG and its hover/pan/zoom script."""
    uid = _output_id("svg", svg)
    return (f'<div id="{uid}" title="wheel: zoom, drag: pan, double-click: fit" '
            f'style="max-height:{VIEW_HEIGHT + 60}px;overflow:hidden;border:1px solid #ccc">'
            f"{_diagram(svg, STATIC_NOTE)}</div>"
            f"<script>{_PAN_ZOOM % (uid, uid, VIEW_HEIGHT, VIEW_HEIGHT)}</script>")


def page_iframe(page: str, svg: str) -> str:
    """Return the interactive page as a sandboxed iframe over its static diagram (``svg``)."""
    uid = _output_id("page", page)
    return (f'<div id="{uid}">{_diagram(svg, PAGE_NOTE)}'
            f'<iframe srcdoc="{html.escape(page, quote=True)}" style="width:100%;height:{VIEW_HEIGHT}px;'
            f'border:1px solid #ccc" sandbox="allow-scripts"></iframe></div>'
            f"<script>{_PAGE_SHOWN % (uid, uid)}</script>")
