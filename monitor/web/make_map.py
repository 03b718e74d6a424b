"""Build ``static/world.svg``, the footprint page's map, from world-atlas's TopoJSON.

Run once by a developer when the map data changes (not at run time)::

    npm pack world-atlas@2 && tar xzf world-atlas-2.*.tgz
    python -m monitor.web.make_map package/countries-50m.json monitor/web/static/world.svg

world-atlas (ISC licence, Natural Earth data in the public domain) gives country shapes keyed
by ISO 3166-1 numeric code; each becomes a ``<path>`` with the alpha-2 code as its id and
class, so the page can colour countries with CSS alone (no script). The projection is Equal
Earth; shapes are simplified to a tenth of a pixel at 1000 px width; Antarctica is left out;
countries too small to see get a dot so that Singapore or Bahrain can still be coloured.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path
from typing import Any

import pycountry

WIDTH = 1000.0
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2
LEFT_OUT = {"010"}  # Antarctica: takes a fifth of the map, hosts no data centre
MIN_STEP = 0.9  # px: a point this close to the one before is dropped
MIN_SPAN = 4.0  # px: a country narrower and lower than this gets a dot


def equal_earth(lon: float, lat: float) -> tuple[float, float]:
    lam, phi = math.radians(lon), math.radians(lat)
    theta = math.asin(_M * math.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * math.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


_X_MAX = equal_earth(180, 0)[0]
_Y_MAX = equal_earth(0, 84)[1]
_Y_MIN = equal_earth(0, -58)[1]
SCALE = WIDTH / (2 * _X_MAX)
HEIGHT = round((_Y_MAX - _Y_MIN) * SCALE)


def to_px(lon: float, lat: float) -> tuple[float, float]:
    x, y = equal_earth(lon, lat)
    return (x + _X_MAX) * SCALE, (_Y_MAX - y) * SCALE


def decode_arcs(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """TopoJSON's quantised, delta-encoded arcs as lists of (lon, lat)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_points(
    ring: list[int], arcs: list[list[tuple[float, float]]]
) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def unwrapped(points: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """A ring that crosses the antimeridian (Russia, Fiji) with its longitudes made
    continuous, plus a copy shifted by 360 degrees: each copy is drawn and the map's edge
    clips what lies beyond 180 degrees (otherwise the ring would cut across the world)."""
    if not points:
        return []
    ring = [points[0]]
    for lon, lat in points[1:]:
        previous = ring[-1][0]
        while lon - previous > 180:
            lon -= 360
        while lon - previous < -180:
            lon += 360
        ring.append((lon, lat))
    copies = [ring]
    if max(lon for lon, _ in ring) > 180:
        copies.append([(lon - 360, lat) for lon, lat in ring])
    if min(lon for lon, _ in ring) < -180:
        copies.append([(lon + 360, lat) for lon, lat in ring])
    return copies


def ring_path(points: list[tuple[float, float]]) -> tuple[str, list[tuple[float, float]]]:
    kept: list[tuple[float, float]] = []
    for lon, lat in points:
        x, y = to_px(lon, lat)
        x, y = round(x, 1), round(y, 1)
        if kept and abs(kept[-1][0] - x) + abs(kept[-1][1] - y) < MIN_STEP:
            continue
        kept.append((x, y))
    if len(kept) < 3:
        return "", kept
    # Relative moves after the first point: about half the bytes of absolute ones.
    steps = [f"{b[0] - a[0]:.1f},{b[1] - a[1]:.1f}" for a, b in itertools.pairwise(kept)]
    return f"M{kept[0][0]:g},{kept[0][1]:g}l" + " ".join(steps).replace(".0", "") + "z", kept


def alpha2(numeric: str | None, name: str) -> str | None:
    if numeric is None:
        return {"Kosovo": "XK"}.get(name)
    country = pycountry.countries.get(numeric=numeric)
    return country.alpha_2 if country else None


def build_svg(topo: dict[str, Any]) -> str:
    arcs = decode_arcs(topo)
    shapes: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    extent: dict[str, list[list[float]]] = {}
    for geometry in topo["objects"]["countries"]["geometries"]:
        numeric, name = geometry.get("id"), geometry["properties"]["name"]
        code = alpha2(numeric, name)
        if code is None or numeric in LEFT_OUT or geometry.get("type") is None:
            continue
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else list(geometry["arcs"])
        for polygon in polygons:
            for ring in polygon:
                for copy in unwrapped(ring_points(ring, arcs)):
                    path, kept = ring_path(copy)
                    box = extent.setdefault(code, [[], []])
                    box[0] += [p[0] for p in kept]
                    box[1] += [p[1] for p in kept]
                    if path:
                        shapes.setdefault(code, []).append(path)
        names.setdefault(code, name)
    dots = []
    for code, (xs, ys) in sorted(extent.items()):
        if xs and max(xs) - min(xs) < MIN_SPAN and max(ys) - min(ys) < MIN_SPAN:
            cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
            dots.append(
                f'<circle class="c {code} dot" cx="{cx:.1f}" cy="{cy:.1f}" r="2.2">'
                f"<title>{names[code]}</title></circle>"
            )
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {HEIGHT}" '
        'class="worldmap" role="img" aria-label="World map">',
        "<!-- Country shapes: world-atlas 2 (ISC licence, Michael Bostock), "
        "Natural Earth data (public domain). -->",
    ]
    for code in sorted(shapes):
        lines.append(
            f'<path id="{code}" class="c {code}" d="{"".join(shapes[code])}">'
            f"<title>{names[code]}</title></path>"
        )
    lines += dots
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    source, target = Path(argv[0]), Path(argv[1])
    svg = build_svg(json.loads(source.read_text(encoding="utf-8")))
    target.write_text(svg, encoding="utf-8")
    print(f"{target}: {len(svg):,} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
