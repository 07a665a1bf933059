"""Load scenario files: TOML, ``extends`` chains, validation with errors that name the path and the fix.

Examples
--------
>>> from scenarios import load_scenario
>>> sc = load_scenario("small")          # a bundled scenario by name
>>> sorted(sc.catalog)[:1]
['a100']
"""

from __future__ import annotations

import copy
import difflib
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from scenarios.bundled import bundled_scenarios
from scenarios.errors import ScenarioError
from scenarios.schema import Scenario

_MAX_EXTENDS_DEPTH = 10


def _find_file(ref: str, base_dir: Path | None) -> Path:
    """Find a scenario by path (relative to ``base_dir``) or bundled name."""
    if not ref.strip():
        raise ScenarioError("the scenario name is empty", fix="give a scenario file or a bundled name such as "
                            "'default' or 'small'")
    p = Path(ref).expanduser()
    candidates = [p] if p.is_absolute() else ([base_dir / p] if base_dir else []) + [p]
    for c in candidates:
        if c.is_file():
            return c.resolve()
        if c.name and c.suffix != ".toml" and c.with_suffix(".toml").is_file():
            return c.with_suffix(".toml").resolve()
    if p.is_dir():
        tomls = sorted(x.name for x in p.glob("*.toml"))[:3]
        hint = f" such as {', '.join(str(p / t) for t in tomls)}" if tomls else ""
        raise ScenarioError(f"'{ref}' is a folder, not a scenario file", file=ref,
                            fix=f"give a .toml file{hint}, or a bundled name such as 'small'")
    bundled = bundled_scenarios()
    if ref in bundled:
        return bundled[ref]
    near = difflib.get_close_matches(ref, list(bundled), n=1)
    fix = f"did you mean '{near[0]}'?" if near else f"give a path, or one of the bundled names {sorted(bundled)}"
    raise ScenarioError(f"no scenario file '{ref}'", fix=fix)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(f"not UTF-8: byte 0x{data[exc.start]:02x} on line {line} looks like Latin-1 / "
                            "Windows-1252", file=str(path),
                            fix="save the file as UTF-8; TOML files must be UTF-8") from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", file=str(path), fix="check the quoting and brackets") from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", file=str(path)) from None


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``; tables merge key by key, everything else is replaced."""
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _resolve_extends(path: Path, depth: int = 0) -> tuple[dict[str, Any], Path]:
    """Read ``path`` and everything it extends; return the merged raw dict and the folder paths resolve to."""
    if depth > _MAX_EXTENDS_DEPTH:
        raise ScenarioError("extends chain is too deep (a cycle?)", file=str(path), column="extends")
    raw = _read_toml(path)
    parent_ref = raw.get("extends")
    if parent_ref is None:
        return raw, path.parent
    if not isinstance(parent_ref, str):
        raise ScenarioError("must be a scenario name or path", file=str(path), column="extends")
    try:
        parent_path = _find_file(parent_ref, path.parent)
    except ScenarioError as exc:
        raise ScenarioError(exc.message, file=str(path), column="extends", fix=exc.fix) from None
    if parent_path == path.resolve():
        raise ScenarioError("a scenario cannot extend itself", file=str(path), column="extends")
    parent_raw, _ = _resolve_extends(parent_path, depth + 1)
    # Relative data paths stay relative to the file that names them: pin the parent's to absolute ones.
    parent_raw = _absolutise_paths(parent_raw, parent_path.parent)
    merged = deep_merge(parent_raw, raw)
    return merged, path.parent


_PATH_KEYS = {"history", "trace", "carbon_file", "price_file"}


def _absolutise_paths(raw: Any, base: Path) -> Any:
    if isinstance(raw, dict):
        out = {}
        for k, v in raw.items():
            if k in _PATH_KEYS and isinstance(v, str) and not v.startswith("bundled:") and not Path(v).is_absolute():
                out[k] = str((base / v).resolve())
            else:
                out[k] = _absolutise_paths(v, base)
        return out
    if isinstance(raw, list):
        return [_absolutise_paths(x, base) for x in raw]
    return raw


def _unwrap(ann: Any) -> Any:
    """Strip ``Annotated[...]`` and ``X | None`` down to the type inside."""
    import types
    import typing

    for _ in range(8):
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann = typing.get_args(ann)[0]
        elif origin is typing.Union or origin is types.UnionType:
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            ann = models[0] if models else (args[0] if len(args) == 1 else ann)
            if not models and len(args) != 1:
                break
        else:
            break
    return ann


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that owns the field at ``loc`` (to suggest a nearest key).

    Walks the path through models, ``dict[str, Model]`` values (a key part) and ``list[Model]`` items
    (an index part), e.g. ``("catalog", "a100", "reserved", 0, "paymnt")`` -> ``ReservedOffer``.
    """
    import typing

    ann: Any = Scenario
    for part in loc[:-1]:
        ann = _unwrap(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(str(part))
            if field is None:
                return None
            ann = field.annotation
            continue
        origin = typing.get_origin(ann)
        args = typing.get_args(ann)
        if origin is dict and len(args) == 2:
            ann = args[1]          # ``part`` is a key of the table
        elif origin in (list, tuple) and args:
            ann = args[0]          # ``part`` is an index
        else:
            return None
    ann = _unwrap(ann)
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def format_validation_error(exc: ValidationError, file: str | None) -> ScenarioError:
    """Turn the first pydantic error into a :class:`ScenarioError` naming the path and the rule."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if p not in ("function-after",))
    path = _dotted(loc)
    kind = err["type"]
    msg = err["msg"]
    fix = None
    if kind == "extra_forbidden":
        owner = _model_at(loc)
        key = str(loc[-1])
        valid = list(owner.model_fields) if owner else []
        near = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        msg = "unknown key"
        fix = f"did you mean '{near[0]}'?" if near else (f"valid keys: {', '.join(valid)}" if valid else None)
    elif kind == "missing":
        msg = "required, but missing"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        ctx = err.get("ctx", {})
        sym = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()), "")
        msg = f"must be {sym} {bound:g}" if isinstance(bound, int | float) else f"must be {sym} {bound}"
    elif kind == "value_error":
        msg = str(err.get("ctx", {}).get("error", msg))
        # cross-field checks put their own dotted path in front: "catalog.x.region: ..."
        head, sep, rest = msg.partition(": ")
        if sep and "." in head and " " not in head:
            path, msg = head, rest
    if len(exc.errors()) > 1:
        msg += f" (and {len(exc.errors()) - 1} more problem(s))"
    return ScenarioError(msg, file=file, column=path or None, fix=fix)


def validate_dict(raw: dict[str, Any], source_dir: str | None = None, file: str | None = None) -> Scenario:
    """Validate a raw scenario dict (already merged) into a :class:`Scenario`."""
    try:
        sc = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise format_validation_error(exc, file) from None
    sc._source_dir = source_dir
    sc._source_file = file
    return sc


def load_scenario(ref: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario file, following ``extends``.

    Parameters
    ----------
    ref
        A path to a TOML file, or the name of a bundled scenario (``default``, ``small``, ...).
    overrides
        Dotted-key overrides applied last, e.g. ``{"policies.carbon_price_usd_per_tonne": 100}``.

    Returns
    -------
    Scenario
        The validated, frozen scenario with every default filled in.

    Raises
    ------
    ScenarioError
        One line naming the file, the path and the rule, e.g.
        ``catalog.h100.on_demand_usd_per_gpu_hour: must be > 0``.
    """
    path = _find_file(str(ref), Path.cwd())
    raw, base = _resolve_extends(path)
    if overrides:
        raw = apply_overrides(raw, overrides)
    return validate_dict(raw, source_dir=str(base), file=str(path))


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Apply ``{"a.b.c": value}`` overrides to a raw scenario dict (new dict)."""
    out = copy.deepcopy(raw)
    for key, value in overrides.items():
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ScenarioError(f"cannot set '{key}': '{p}' is not a table", column=key)
        node[parts[-1]] = value
    return out


def parse_value(text: str) -> Any:
    """Parse a command-line value as TOML would (numbers, booleans, strings, lists)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def effective_dict(sc: Scenario) -> dict[str, Any]:
    """The scenario's effective values after defaults, as plain JSON-able data."""
    return json.loads(sc.model_dump_json())


def json_schema() -> dict[str, Any]:
    """JSON Schema of the scenario format, for editors."""
    return Scenario.model_json_schema()
