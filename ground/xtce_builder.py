"""Building an XTCE 1.2 document: SpaceSystem, parameter and argument types (each made once, by
name), parameters, containers with restrictions, encodings and alarm ranges. ground/xtce.py
fills it from the flight dictionary."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

NS = "http://www.omg.org/spec/XTCE/20180204"
# struct format -> (bits, signed)
STRUCT_BITS = {
    "B": (8, False),
    "H": (16, False),
    "I": (32, False),
    "b": (8, True),
    "h": (16, True),
    "i": (32, True),
}


class XtceBuilder:
    """The elements of an XTCE SpaceSystem, each type made once (by name)."""

    def __init__(self, name: str, epoch: str) -> None:
        self.epoch = epoch  # ISO 8601: the reference time of the CUC time type
        ET.register_namespace("xtce", NS)
        self.root = self.el(None, "SpaceSystem", name=name)
        self.el(self.root, "Header", version="1.0", date=datetime.date.today().isoformat())
        tm = self.el(self.root, "TelemetryMetaData")
        self.ptypes = self.el(tm, "ParameterTypeSet")
        self.params = self.el(tm, "ParameterSet")
        self.containers = self.el(tm, "ContainerSet")
        cm = self.el(self.root, "CommandMetaData")
        self.atypes = self.el(cm, "ArgumentTypeSet")
        self.cmds = self.el(cm, "MetaCommandSet")
        self.types: set[tuple[str, str]] = set()

    @staticmethod
    def el(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
        qattrs = {k.rstrip("_"): str(v) for k, v in attrs.items() if v is not None}
        qtag = "{%s}%s" % (NS, tag)
        e = ET.Element(qtag, qattrs) if parent is None else ET.SubElement(parent, qtag, qattrs)
        if text is not None:
            e.text = text
        return e

    # --- types -----------------------------------------------------------------------------------
    def new_type(self, kind: str, name: str, where: str = "Parameter", **attrs: object) -> ET.Element | None:
        """A `<kind><where>Type>` element, or None when a type of this name exists already."""
        if (where, name) in self.types:
            return None
        self.types.add((where, name))
        parent = self.ptypes if where == "Parameter" else self.atypes
        return self.el(parent, "%s%sType" % (kind, where), name=name, **attrs)

    def int_encoding(self, t: ET.Element, bits: int, signed: bool = False) -> None:
        enc = "twosComplement" if signed else "unsigned"
        self.el(t, "IntegerDataEncoding", sizeInBits=bits, encoding=enc, byteOrder="mostSignificantByteFirst")

    @staticmethod
    def unit(t: ET.Element, unit: str) -> None:
        if unit:
            XtceBuilder.el(XtceBuilder.el(t, "UnitSet"), "Unit", unit)

    def int_type(
        self, name: str, bits: int, signed: bool = False, unit: str = "", where: str = "Parameter"
    ) -> ET.Element | None:
        sig = "true" if signed else "false"
        t = self.new_type("Integer", name, where, signed=sig, sizeInBits=bits)
        if t is not None:
            self.unit(t, unit)
            self.int_encoding(t, bits, signed)
        return t

    def float_type(self, name: str, unit: str = "", where: str = "Parameter") -> ET.Element | None:
        t = self.new_type("Float", name, where, sizeInBits=32)
        if t is not None:
            self.unit(t, unit)
            self.el(t, "FloatDataEncoding", sizeInBits=32, encoding="IEEE754_1985")
        return t

    def enum_type(self, name: str, mapping: dict[str, int], bits: int, where: str = "Parameter") -> None:
        t = self.new_type("Enumerated", name, where)
        if t is not None:
            self.int_encoding(t, bits)
            el = self.el(t, "EnumerationList")
            for label, value in sorted(mapping.items(), key=lambda kv: kv[1]):
                self.el(el, "Enumeration", value=value, label=label)

    def time_type(self) -> None:
        t = self.new_type("AbsoluteTime", "cuc_time", shortDescription="CUC 4 + 2 octets, mission epoch")
        if t is not None:
            enc = self.el(t, "Encoding", units="seconds", scale=repr(2.0**-16), offset="0")
            self.el(enc, "IntegerDataEncoding", sizeInBits=48, encoding="unsigned")
            self.el(self.el(t, "ReferenceTime"), "Epoch", self.epoch)

    @staticmethod
    def alarms(t: ET.Element, limits: tuple) -> None:
        ylo, yhi, rlo, rhi = limits
        if all(v is None for v in limits):
            return
        ranges = XtceBuilder.el(XtceBuilder.el(t, "DefaultAlarm"), "StaticAlarmRanges")
        for level, lo, hi in (("WarningRange", ylo, yhi), ("CriticalRange", rlo, rhi)):
            if lo is not None or hi is not None:
                XtceBuilder.el(
                    ranges,
                    level,
                    minInclusive=None if lo is None else repr(lo),
                    maxInclusive=None if hi is None else repr(hi),
                )

    def param(self, name: str, type_ref: str, desc: str = "") -> None:
        self.el(self.params, "Parameter", name=name, parameterTypeRef=type_ref, shortDescription=desc or None)

    def fmt_param(self, name: str, fmt: str, desc: str = "", type_ref: str | None = None) -> None:
        """A parameter packed with a struct format character ("f": f32)."""
        if type_ref is None:
            if fmt == "f":
                type_ref = "f32"
                self.float_type(type_ref)
            else:
                bits, signed = STRUCT_BITS[fmt]
                type_ref = "%s%d" % ("i" if signed else "u", bits)
                self.int_type(type_ref, bits, signed)
        self.param(name, type_ref, desc)

    # --- containers ------------------------------------------------------------------------------
    def container(
        self, name: str, entries: list[str], base: str | None = None, abstract: bool = False, **conds: object
    ) -> None:
        c = self.el(self.containers, "SequenceContainer", name=name, abstract="true" if abstract else None)
        el = self.el(c, "EntryList")
        for p in entries:
            self.el(el, "ParameterRefEntry", parameterRef=p)
        if base:
            b = self.el(c, "BaseContainer", containerRef=base)
            if conds:
                cl = self.el(self.el(b, "RestrictionCriteria"), "ComparisonList")
                for p, v in conds.items():
                    self.el(cl, "Comparison", parameterRef=p, value=v, comparisonOperator="==")
