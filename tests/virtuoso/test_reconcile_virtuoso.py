"""The reconciliation service's index is the same whether built from the embedded store or Virtuoso."""

from __future__ import annotations

from cowkg.reconciliation import ReconciliationService


def summary(service: ReconciliationService) -> dict:
    """Names, types, IRI values and the number of literal values of every record.

    Literal spellings are left out: Virtuoso answers some in its own forms (``1`` for ``true``).
    """
    return {rid: (rec.name, sorted(rec.names), sorted(rec.types),
                  {p: (sorted(v.text for v in vals if v.iri), sum(not v.iri for v in vals))
                   for p, vals in rec.props.items()})
            for rid, rec in service.records.items()}


def test_same_index_on_embedded_and_virtuoso(embedded, project_backend):
    local = ReconciliationService.from_backend(embedded)
    remote = ReconciliationService.from_backend(project_backend)
    assert summary(remote) == summary(local)
    assert {t: (v.name, sorted(v.broader)) for t, v in remote.types.items()} == \
           {t: (v.name, sorted(v.broader)) for t, v in local.types.items()}
    query = {"q": {"query": "Keir Starmer", "type": "Person"}}
    assert remote.reconcile(query) == local.reconcile(query)
