"""Analyses: start one (a job), follow its progress, read its results,
cancel it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinmatch import __version__
from kinmatch.errors import KinmatchError
from kinmatch.service.access import (
    State,
    Who,
    authorize,
    guarded,
    programme_or_404,
)
from kinmatch.service.jobs import analysis_place, inputs_hash, options_from
from kinmatch.service.policy import Action, Kind, Resource
from kinmatch.storage.audit import record
from kinmatch.storage.case_store import case_document, undefined_markers
from kinmatch.storage.models import Analysis, AnalysisStatus, MarkerDatabase

router = APIRouter(prefix="/api/programmes", tags=["analyses"])


class AnalysisIn(BaseModel):
    markers: str = Field(description="name of the programme's autosomal marker database")
    lineage: str | None = Field(None, description="name of its lineage databases, if any")
    title: str = ""
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="options of the DVI pipeline (kinmatch dvi's options: threshold, "
                    "merge_fragments, estimate_dropout, dropin, ...)")


def _summary(a: Analysis, *, results: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id, "status": a.status.value, "created_at": a.created_at.isoformat(),
        "input_hash": a.input_hash, "parameters": a.parameters,
        "kinmatch_version": a.kinmatch_version, "progress": a.progress, "error": a.error,
        "finished_at": a.finished_at.isoformat() if a.finished_at else None}
    if results:
        out["results"] = a.results
    return out


def _database(s: Session, programme_id: str, name: str, kind: str) -> MarkerDatabase:
    found = s.execute(select(MarkerDatabase).where(
        MarkerDatabase.programme_id == programme_id, MarkerDatabase.name == name,
        MarkerDatabase.kind == kind)).scalar_one_or_none()
    if found is None:
        raise HTTPException(422, f"the programme has no {kind} marker database '{name}'")
    return found


#: how many samples a refusal names for each marker (all are in ``undefined_markers``)
SHOWN_SAMPLES = 10


def _lacking(database: str, missing: dict[str, list[str]]) -> str:
    def samples(codes: list[str]) -> str:
        shown = ", ".join(codes[:SHOWN_SAMPLES])
        more = f" and {len(codes) - SHOWN_SAMPLES} more" if len(codes) > SHOWN_SAMPLES else ""
        return f"{'sample' if len(codes) == 1 else 'samples'} {shown}{more}"
    listed = "; ".join(f"{marker} ({samples(codes)})" for marker, codes in missing.items())
    count = f"{len(missing)} marker{'s' if len(missing) > 1 else ''}"
    return (f"the marker database '{database}' has no allele frequencies for {count} typed in "
            f"the programme's profiles: {listed}. Every typed marker needs its frequencies: "
            "choose a marker database that has them, or import a frequency database with "
            "them; nothing was started")


@router.post("/{programme}/analyses", status_code=202,
             openapi_extra=guarded(Action.START_ANALYSIS, Kind.PROGRAMME),
             responses={422: {"description": "unknown parameters or marker database; or the "
                                             "marker database lacks markers typed in the "
                                             "programme's profiles (named in "
                                             "`undefined_markers`: marker -> sample codes)"}})
def start_analysis(programme: str, body: AnalysisIn, request: Request, who: Who,
                   st: State) -> Any:
    """Queue an analysis of the programme's current data (a snapshot is
    taken now; later changes do not affect it). Refused (422) when a
    profile is typed at a marker the marker database lacks: the refusal
    names the markers and the samples typed at them."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
    authorize(st, who, Action.START_ANALYSIS, Resource(Kind.PROGRAMME, p.id), p.code)
    try:
        options_from(body.parameters)
    except (KinmatchError, TypeError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    with st.database.write() as s:
        markers = _database(s, p.id, body.markers, "autosomal")
        lineage = None if body.lineage is None else _database(s, p.id, body.lineage, "lineage")
        document = case_document(s, st.keyring, p.id, markers, lineage, body.title)
        missing = undefined_markers(document)
        if missing:
            return JSONResponse({"detail": _lacking(body.markers, missing),
                                 "undefined_markers": missing}, status_code=422)
        analysis = Analysis(programme_id=p.id, created_by=who.user_id, agency_id=who.agency_id,
                            input_hash=inputs_hash(document), inputs_sealed=b"",
                            parameters=body.parameters, kinmatch_version=__version__)
        s.add(analysis)
        s.flush()
        analysis.inputs_sealed = st.keyring.seal(document, analysis_place(analysis.id))
        record(s, who.actor, "start", "analysis", analysis.id, programme_id=p.id,
               after={"input_hash": analysis.input_hash, "parameters": body.parameters})
        out = _summary(analysis)
    runner = getattr(request.app.state, "jobs", None)
    if runner is not None:
        runner.wake()
    return out


@router.get("/{programme}/analyses", openapi_extra=guarded(Action.VIEW, Kind.ANALYSIS))
def list_analyses(programme: str, who: Who, st: State) -> list[dict[str, Any]]:
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        authorize(st, who, Action.VIEW, Resource(Kind.ANALYSIS, p.id), p.code)
        rows = s.execute(select(Analysis).where(Analysis.programme_id == p.id)
                         .order_by(Analysis.created_at.desc())).scalars()
        return [_summary(a) for a in rows]


@router.get("/{programme}/analyses/{analysis_id}",
            openapi_extra=guarded(Action.VIEW, Kind.ANALYSIS))
def get_analysis(programme: str, analysis_id: str, who: Who, st: State) -> dict[str, Any]:
    """An analysis: status and progress, and its results when done (LRs and
    conclusions, shared with every member of the programme)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        a = s.get(Analysis, analysis_id)
        if a is None or a.programme_id != p.id:
            raise HTTPException(404, f"no analysis {analysis_id} in programme {p.code}")
        authorize(st, who, Action.VIEW, Resource(Kind.ANALYSIS, p.id, created_by=a.created_by),
                  analysis_id)
        return _summary(a, results=True)


@router.post("/{programme}/analyses/{analysis_id}/cancel",
             openapi_extra=guarded(Action.CANCEL_ANALYSIS, Kind.ANALYSIS))
def cancel_analysis(programme: str, analysis_id: str, who: Who, st: State) -> dict[str, Any]:
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        a = s.get(Analysis, analysis_id)
        if a is None or a.programme_id != p.id:
            raise HTTPException(404, f"no analysis {analysis_id} in programme {p.code}")
        authorize(st, who, Action.CANCEL_ANALYSIS,
                  Resource(Kind.ANALYSIS, p.id, created_by=a.created_by), analysis_id)
    with st.database.write() as s:
        a = s.get_one(Analysis, analysis_id)
        if a.status in (AnalysisStatus.DONE, AnalysisStatus.FAILED, AnalysisStatus.CANCELLED):
            raise HTTPException(409, f"analysis {analysis_id} has already ended ({a.status})")
        if a.status is AnalysisStatus.QUEUED:
            a.status = AnalysisStatus.CANCELLED
            a.error = "cancelled before it started"
        a.cancel_requested = True
        record(s, who.actor, "cancel", "analysis", analysis_id, programme_id=p.id)
        return _summary(a)
