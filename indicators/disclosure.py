"""Statistical disclosure control for additive tables: primary suppression by a threshold on
unweighted records, then secondary (complementary) suppression until no suppressed cell can be
derived from the published ones.

A table is a set of cells and a set of additive relations among them, each `total = sum of
parts` (sex, age groups, migrant status, province -> region -> nation, destinations -> total).
The published cells are known to an attacker; the suppressed ones are unknowns in the linear
system the relations form. A suppressed cell can be derived exactly when its unit vector lies in
the row space of that system restricted to the suppressed cells (every solution gives it the
same value). The method follows the two steps of tau-argus's modular approach:

1. the singleton rule: a relation with exactly one suppressed cell gives it away by
   subtraction, so a second cell of that relation is suppressed (the published part with the
   fewest persons, never a zero cell where another will do);
2. a linear audit: the rank of the system over the suppressed cells, per connected group of
   relations, finds any cell still derivable from combinations of relations; one more cell of
   a relation through it is suppressed and both steps run again, until the audit finds none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from threadpoolctl import threadpool_limits

NONE, PRIMARY, SECONDARY = 0, 1, 2
SUPPRESSION_NAMES = {PRIMARY: "primary", SECONDARY: "secondary"}


@dataclass(frozen=True)
class Relations:
    """`total = sum(parts)` relations over cells 0..size-1; row r of `matrix` holds +1 for the
    total and -1 for each part, so the true values x satisfy matrix @ x = 0."""

    size: int
    matrix: sp.csr_matrix

    @classmethod
    def build(cls, size: int, relations: list[tuple[int, list[int]]]) -> Relations:
        rows, cols, signs = [], [], []
        kept = 0
        for total, parts in relations:
            parts = [p for p in parts if p != total]
            if not parts:
                continue
            rows += [kept] * (len(parts) + 1)
            cols += [total, *parts]
            signs += [1.0] + [-1.0] * len(parts)
            kept += 1
        matrix = sp.csr_matrix((signs, (rows, cols)), shape=(kept, size))
        matrix.sum_duplicates()
        return cls(size, matrix)

    @classmethod
    def from_links(cls, size: int, kinds: list[tuple[np.ndarray, np.ndarray]]) -> Relations:
        """Relations from (part, total) links, one pair of arrays per kind of relation: the
        parts that share a total within a kind make one relation with it."""
        rows, cols, signs = [], [], []
        for kind, (parts, totals) in enumerate(kinds):
            parts, totals = np.asarray(parts, dtype=np.int64), np.asarray(totals, dtype=np.int64)
            keep = parts != totals
            parts, totals = parts[keep], totals[keep]
            ids = kind * size + totals
            heads = np.unique(totals)
            rows += [ids, kind * size + heads]
            cols += [parts, heads]
            signs += [np.full(len(parts), -1.0), np.ones(len(heads))]
        if not rows:
            return cls(size, sp.csr_matrix((0, size)))
        row_ids = np.concatenate(rows)
        _, compact = np.unique(row_ids, return_inverse=True)
        matrix = sp.csr_matrix(
            (np.concatenate(signs), (compact, np.concatenate(cols))),
            shape=(int(compact.max()) + 1 if len(compact) else 0, size),
        )
        matrix.sum_duplicates()
        return cls(size, matrix)

    def members(self, row: int) -> np.ndarray:
        start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        return self.matrix.indices[start:end]

    def total_of(self, row: int) -> int:
        start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        return int(self.matrix.indices[start:end][self.matrix.data[start:end] > 0][0])


def primary(counts: np.ndarray, threshold: int) -> np.ndarray:
    """Cells resting on 1 to threshold-1 unweighted records (a true zero is published)."""
    counts = np.asarray(counts)
    return (counts > 0) & (counts < threshold)


def _pick(relations: Relations, row: int, suppressed: np.ndarray, cost: np.ndarray) -> int | None:
    """The published cell of relation `row` whose suppression loses least: a part before the
    total, a cell with persons before a zero (a suppressed zero protects only upwards), then
    the fewest persons."""
    cells = relations.members(row)
    open_cells = cells[~suppressed[cells]]
    if not len(open_cells):
        return None
    total = relations.total_of(row)
    keys = [(c == total, cost[c] <= 0, cost[c], c) for c in open_cells]
    return int(min(keys)[3])


def _singletons(relations: Relations, suppressed: np.ndarray, cost: np.ndarray) -> list[int]:
    """Apply the singleton rule until no relation has exactly one suppressed cell."""
    added = []
    membership = abs(relations.matrix)
    while True:
        counts = membership @ suppressed.astype(float)
        single = np.flatnonzero(np.isclose(counts, 1.0))
        if not len(single):
            return added
        for row in single:
            if suppressed[relations.members(row)].sum() != 1:
                continue  # an earlier pick of this pass settled it
            cell = _pick(relations, row, suppressed, cost)
            if cell is None:
                continue
            suppressed[cell] = True
            added.append(cell)


def derivable(relations: Relations, suppressed: np.ndarray, tolerance: float = 1e-8) -> np.ndarray:
    """Suppressed cells whose value the published cells determine exactly, through any
    combination of relations (the linear audit). BLAS runs on one thread here: the blocks are
    small, and a multi-threaded BLAS on a loaded machine spends its time waiting for cores."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _derivable(relations, suppressed, tolerance)


def _derivable(relations: Relations, suppressed: np.ndarray, tolerance: float) -> np.ndarray:
    unknown = np.flatnonzero(suppressed)
    if not len(unknown) or relations.matrix.shape[0] == 0:
        return np.array([], dtype=int)
    system = relations.matrix[:, unknown].tocsr()
    system = system[np.diff(system.indptr) > 0]
    if system.shape[0] == 0:
        return np.array([], dtype=int)
    links = (abs(system).T @ abs(system)).tocsr()
    groups, labels = connected_components(links, directed=False)
    found = []
    system = system.tocsc()
    for group in range(groups):
        columns = np.flatnonzero(labels == group)
        block = system[:, columns]
        block = block[np.diff(block.tocsr().indptr) > 0] if block.shape[0] else block
        dense = block.toarray()
        dense = dense[np.abs(dense).sum(axis=1) > 0]
        if not len(dense):
            continue
        # null space of the block from the Gram matrix (small integer entries: well
        # conditioned, and about four times faster than a full SVD)
        eigenvalues, vectors = np.linalg.eigh(dense.T @ dense)
        null = vectors[:, eigenvalues < tolerance * max(1.0, eigenvalues.max())]
        free = np.linalg.norm(null, axis=1) if null.size else np.zeros(len(columns))
        found.extend(unknown[columns[free < 1e-6]])
    return np.array(sorted(found), dtype=int)


def _nearest_pick(
    relations: Relations,
    columns: sp.csc_matrix,
    cell: int,
    suppressed: np.ndarray,
    cost: np.ndarray,
) -> int | None:
    """A published cell to hide for a derivable `cell`: from the relations through it, or,
    where those are all hidden already, from the relations one step further out, and so on."""
    reached = {cell}
    frontier = [cell]
    while frontier:
        rows = {
            int(r)
            for c in frontier
            for r in columns.indices[columns.indptr[c] : columns.indptr[c + 1]]
        }
        picks = [
            p
            for p in (_pick(relations, r, suppressed, cost) for r in sorted(rows))
            if p is not None
        ]
        if picks:
            return min(picks, key=lambda c: (cost[c] <= 0, cost[c], c))
        members = {int(m) for r in rows for m in relations.members(r)}
        frontier = sorted(members - reached)
        reached |= members
    return None


def protect(
    relations: Relations, primary_cells: np.ndarray, cost: np.ndarray, max_rounds: int = 1000
) -> np.ndarray:
    """NONE, PRIMARY or SECONDARY per cell, such that no suppressed cell is derivable."""
    status = np.where(primary_cells, PRIMARY, NONE).astype(np.int8)
    suppressed = primary_cells.astype(bool).copy()
    cost = np.asarray(cost, dtype=float)
    for _ in range(max_rounds):
        for cell in _singletons(relations, suppressed, cost):
            status[cell] = SECONDARY
        exposed = derivable(relations, suppressed)
        if not len(exposed):
            return status
        columns = relations.matrix.tocsc()
        added = 0
        for cell in exposed:
            pick = _nearest_pick(relations, columns, int(cell), suppressed, cost)
            if pick is not None:
                suppressed[pick] = True
                status[pick] = SECONDARY
                added += 1
        if not added:
            break
    raise RuntimeError("secondary suppression did not settle; the table's relations conflict")


def differencing_attack(relations: Relations, published: np.ndarray) -> dict[int, float]:
    """What an attacker recovers by subtraction, relation after relation, from the published
    values (NaN where suppressed); the check the secondary pass must defeat."""
    values = np.array(published, dtype=float)
    recovered: dict[int, float] = {}
    changed = True
    while changed:
        changed = False
        for row in range(relations.matrix.shape[0]):
            cells = relations.members(row)
            unknown = cells[np.isnan(values[cells])]
            if len(unknown) != 1:
                continue
            start, end = relations.matrix.indptr[row], relations.matrix.indptr[row + 1]
            signs = dict(
                zip(
                    relations.matrix.indices[start:end],
                    relations.matrix.data[start:end],
                    strict=True,
                )
            )
            cell = int(unknown[0])
            known = sum(signs[c] * values[c] for c in cells if c != cell)
            values[cell] = -known / signs[cell]
            recovered[cell] = float(values[cell])
            changed = True
    return recovered
