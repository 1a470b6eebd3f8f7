"""SDMX structures for an edition's data files, written as SDMX-ML 2.1 with sdmx1: for each
dataflow (the SDG migration indicators in the global SDG codes, and the national series), its
data structure definition, concept scheme, codelists holding every code the data use, with
names in each profile language, and the dataflow; and the data as SDMX-CSV 2.0, whose
`STRUCTURE_ID` names that dataflow. A client reads both and checks one against the other."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from indicators.catalogue import Indicator
from indicators.translations import code_label, term
from sources.geography import areas
from sources.i18n import LANGUAGES, N_, _
from sources.place_names import place_name

AGENCY = "EMP"
VERSION = "1.0"
STRUCTURE_FILE = "structure.xml"
SCHEME_NAME = N_("Concepts of the Extended Migration Profile")
#: the dataflows an edition publishes: file stem -> dataflow id (with the country's code)
FLOWS = {"sdg": "DF_SDG_{country}", "national": "DF_EMP_{country}"}
#: attributes and how they are represented (a codelist, or free text / integers)
CODED_ATTRIBUTES = ("UNIT_MEASURE", "OBS_STATUS", "CONF_STATUS")
TEXT_ATTRIBUTES = {"UNIT_MULT": "integer", "COMMENT_OBS": "string", "SOURCE_DETAIL": "string"}
CONCEPTS = {
    "INDICATOR": N_("Indicator of the Extended Migration Profile"),
    "FREQ": N_("Frequency"),
    "REPORTING_TYPE": N_("Reporting type"),
    "SERIES": N_("Series"),
    "REF_AREA": N_("Reference area"),
    "COUNTERPART_AREA": N_("Counterpart area"),
    "SEX": N_("Sex"),
    "AGE": N_("Age"),
    "URBANISATION": N_("Urbanisation"),
    "INCOME_WEALTH_QUANTILE": N_("Income or wealth quantile"),
    "EDUCATION_LEV": N_("Education level"),
    "OCCUPATION": N_("Occupation"),
    "CUST_BREAKDOWN": N_("Custom breakdown"),
    "COMPOSITE_BREAKDOWN": N_("Composite breakdown (migratory status)"),
    "DISABILITY_STATUS": N_("Disability status"),
    "ACTIVITY": N_("Economic activity"),
    "PRODUCT": N_("Product"),
    "TIME_PERIOD": N_("Time period"),
    "OBS_VALUE": N_("Observation value"),
    "UNIT_MEASURE": N_("Unit of measure"),
    "UNIT_MULT": N_("Unit multiplier"),
    "OBS_STATUS": N_("Observation status"),
    "CONF_STATUS": N_("Confidentiality status"),
    "COMMENT_OBS": N_("Comment"),
    "SOURCE_DETAIL": N_("Source detail"),
}
FIXED_NAMES = {
    "FREQ": {"A": N_("Annual"), "Q": N_("Quarterly"), "M": N_("Monthly")},
    "REPORTING_TYPE": {"N": N_("National"), "G": N_("Global")},
    "OBS_STATUS": {
        "A": N_("Normal value"),
        "B": N_("Break in series"),
        "D": N_("Definition differs"),
        "E": N_("Estimated value"),
        "L": N_("Missing value; exists but not collected"),
        "M": N_("Missing value; cannot exist"),
        "P": N_("Provisional value"),
        "U": N_("Low reliability"),
    },
    "CONF_STATUS": {
        "F": N_("Free (may be published)"),
        "C": N_("Confidential (not for publication)"),
        "D": N_("Secondary confidentiality set by the sender, not for publication"),
    },
}


FLOW_NAMES = {
    "sdg": N_("SDG migration indicators of {country}, in the global SDG codes"),
    "national": N_("National series of the Extended Migration Profile of {country}"),
}


def _names(text_by_language: dict[str, str]) -> dict[str, str]:
    return {lang: text for lang, text in text_by_language.items() if text}


def _in_every_language(english: str) -> dict[str, str]:
    return _names({lang: _(english, language=lang) for lang in LANGUAGES})


def code_names(
    dimension: str, code: str, catalogue: dict[str, Indicator], m49: dict[str, str]
) -> dict[str, str]:
    """A code's name in each profile language (the code itself where EMP has no word)."""
    names: dict[str, str] = {}
    for lang in LANGUAGES:
        if dimension in FIXED_NAMES:
            text = FIXED_NAMES[dimension].get(code) and _(
                FIXED_NAMES[dimension][code], language=lang
            )
        elif dimension in ("REF_AREA", "COUNTERPART_AREA"):
            area = m49.get(code, code)
            text = code_label(area, lang) if area.startswith("_") else place_name(area, lang)
        elif dimension == "INDICATOR":
            indicator = catalogue.get(code)
            text = term("indicators", code, lang) or (indicator.name if indicator else None)
        elif dimension == "SERIES":
            text = term("series", code, lang)
        elif dimension == "UNIT_MEASURE":
            text = term("units", code, lang)
        else:
            text = code_label(code, lang)
        names[lang] = text or code
    return names


def _codelist(common, dimension: str, codes: list[str], catalogue, m49, **kw):
    found = common.Codelist(
        id=f"CL_{dimension}", name=_in_every_language(CONCEPTS[dimension]), **kw
    )
    for code in sorted(set(codes)):
        found.append(common.Code(id=code, name=code_names(dimension, code, catalogue, m49)))
    return found


def structure_message(
    frames: dict[str, pd.DataFrame],
    dimensions: dict[str, tuple[str, ...]],
    country: str,
    catalogue: tuple[Indicator, ...],
) -> bytes:
    """SDMX-ML 2.1 structures of `frames` (file stem -> SDMX-CSV rows): one DSD and dataflow
    each, with codelists holding every code used."""
    import sdmx
    from sdmx.message import StructureMessage
    from sdmx.model import common
    from sdmx.model import v21 as model

    agency = common.Agency(id=AGENCY, name={"en": "Extended Migration Profiles"})
    kw = {
        "maintainer": agency,
        "version": VERSION,
        "is_final": True,
        "is_external_reference": False,
    }
    by_id = {i.id: i for i in catalogue}
    m49 = {
        f"{int(n):03d}": code
        for code, n in zip(areas()["code"], areas()["m49"], strict=True)
        if pd.notna(n)
    }
    message = StructureMessage()
    scheme = common.ConceptScheme(id="CS_EMP", name=_in_every_language(SCHEME_NAME), **kw)
    for concept, english in CONCEPTS.items():
        scheme.append(common.Concept(id=concept, name=_in_every_language(english)))
    message.add(scheme)
    codelists: dict[str, object] = {}
    for stem, frame in frames.items():
        flow_id = FLOWS[stem].format(country=country)
        dsd = model.DataStructureDefinition(
            id=flow_id.replace("DF_", "DSD_"), name=_in_every_language(CONCEPTS["OBS_VALUE"]), **kw
        )
        dsd.dimensions.id = "DimensionDescriptor"
        dsd.attributes.id = "AttributeDescriptor"
        dsd.measures.id = "MeasureDescriptor"
        for dimension in dimensions[stem]:
            if dimension == "TIME_PERIOD":
                dsd.dimensions.getdefault(
                    dimension,
                    cls=common.TimeDimension,
                    concept_identity=scheme[dimension],
                    local_representation=common.Representation(
                        non_enumerated=[
                            common.Facet(value_type=common.FacetValueType.observationalTimePeriod)
                        ]
                    ),
                )
                continue
            codes = frame[dimension].astype(str).tolist()
            key = f"CL_{dimension}"
            if key in codelists:  # one codelist per concept, holding the codes of every flow
                listed = codelists[key]
                for code in sorted(set(codes) - {c.id for c in listed}):
                    listed.append(
                        common.Code(id=code, name=code_names(dimension, code, by_id, m49))
                    )
            else:
                listed = codelists[key] = _codelist(common, dimension, codes, by_id, m49, **kw)
            dsd.dimensions.getdefault(
                dimension,
                concept_identity=scheme[dimension],
                local_representation=common.Representation(enumerated=listed),
            )
        dsd.measures.getdefault("OBS_VALUE", concept_identity=scheme["OBS_VALUE"])
        for attribute in (*CODED_ATTRIBUTES, *TEXT_ATTRIBUTES):
            if attribute in CODED_ATTRIBUTES:
                key = f"CL_{attribute}"
                codes = frame[attribute].astype(str).tolist()
                if key not in codelists:
                    codelists[key] = _codelist(common, attribute, codes, by_id, m49, **kw)
                else:
                    for code in sorted(set(codes) - {c.id for c in codelists[key]}):
                        codelists[key].append(
                            common.Code(id=code, name=code_names(attribute, code, by_id, m49))
                        )
                representation = common.Representation(enumerated=codelists[key])
            else:
                kind = common.FacetValueType[TEXT_ATTRIBUTES[attribute]]
                representation = common.Representation(
                    non_enumerated=[common.Facet(value_type=kind)]
                )
            dsd.attributes.getdefault(
                attribute,
                concept_identity=scheme[attribute],
                local_representation=representation,
                usage_status=common.UsageStatus.conditional,
                related_to=model.PrimaryMeasureRelationship(),
            )
        message.add(dsd)
        flow_names = FLOW_NAMES[stem]
        message.add(
            model.DataflowDefinition(
                id=flow_id,
                name=_names(
                    {
                        lang: _(flow_names, language=lang, country=place_name(country, lang))
                        for lang in LANGUAGES
                    }
                ),
                structure=dsd,
                **kw,
            )
        )
    for listed in codelists.values():
        message.add(listed)
    return sdmx.to_xml(message, pretty_print=True)


def sdmx_csv_2(frame: pd.DataFrame, flow: str) -> pd.DataFrame:
    """SDMX-CSV 2.0 rows of a 1.0 frame: the structure named in two columns, action I."""
    out = frame.drop(columns=["DATAFLOW"])
    out.insert(0, "ACTION", "I")
    out.insert(0, "STRUCTURE_ID", f"{AGENCY}:{flow}({VERSION})")
    out.insert(0, "STRUCTURE", "dataflow")
    return out


def write_structures(folder: Path, xml: bytes) -> Path:
    path = Path(folder) / STRUCTURE_FILE
    path.write_bytes(xml)
    return path
