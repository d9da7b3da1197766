"""What the study said, in its own words and where: the source of every "The study says" cell.

Hamblin (2022), "Effects of Superposition on Latent Space Visualization" has no numbered sections; a
place is named by its heading and the paragraph's opening words. A claim the study never made is
labelled :data:`OWN` (supviz's own question) or names the paper it comes from.
"""

from __future__ import annotations

#: The label of a claim that the study never made: a question supviz asks of the study's setting.
OWN = "supviz's own question: the study did not ask it"
#: The words every source of supviz's own question contains (:data:`OWN` and its variants naming a paper).
OWN_MARK = "supviz's own question"
#: How every source of the study's own words begins.
STUDY_MARK = "Hamblin (2022)"
#: Whose claim a finding tests, by its source (:func:`claim_owner`), in the order the tally counts them.
OWNERS = {
    "study": "claims the study made",
    "cited": "claims of other papers",
    "own": "questions of supviz's own, which the study did not ask",
}

#: Sharkey, Braun & Millidge's claim that sparse autoencoders recover features from superposition: tested on the
#: study's cells, but the study trains no autoencoder and does not cite them.
SHARKEY = (
    "Sharkey, Braun & Millidge (2022), 'Taking features out of superposition with sparse autoencoders': their claim, "
    "not the study's (the study trains no autoencoder); tested here on the study's cells"
)
#: A paper's author-and-year as a cited source opens with it: "Elhage et al. (2022)".
PAPER = r"^(.*?\(\d{4}\))"

_WHERE_DR = "Hamblin (2022), 'Dimensionality Reduction of Latent Spaces with Superposition'"

#: Finding-key prefix -> the study's words and where they stand.
QUOTES: dict[str, str] = {
    "A1": (
        "Hamblin (2022), 'What is Superposition?': \"the superposition solution for representing 2 features on 1 "
        'dimensional is to assign each feature to one pole of the dimension" (after Elhage et al. 2022)'
    ),
    "B1": (
        f"{_WHERE_DR}, 'Whats Correct Geometry?': \"as N increases, the optimal distance preserving projection is a "
        'homogenous density circle"'
    ),
    "A2": (
        "Hamblin (2022), 'What is Superposition?', reporting Elhage et al. (2022): \"They used simulated data for x, "
        "and found exactly what we'd expect, that as sparsity increases, the ReLU model packs and more features into "
        'the low dimensional space"'
    ),
    "A3": (
        "Elhage et al. (2022), 'Toy Models of Superposition', the feature-dimensionality figure: their claim, not the "
        "study's. The study shows their figure and says only \"many different geometries can emerge as optimal (again "
        "from their paper)\" (Hamblin (2022), 'What is Superposition?'); the falling dimensions per feature and the "
        "sticky fractions are Elhage et al.'s findings"
    ),
    "B2": (
        f'{_WHERE_DR}, the UMAP sweep: "the relevant parameter is n_neighbors for our purposes, which decreases bias '
        'as it increases"'
    ),
    "B4": f'{_WHERE_DR}, the t-SNE sweep: "Low perplexity introduces substantial artifacts"',
    "B5": (
        f"{_WHERE_DR}, UMAP across N: \"Looks very similar to MDS, allow it's introducing some noise in higher "
        'dimensions"; t-SNE across N: "t-SNE clearly introduces major artifacts"'
    ),
    "C2-centre": (
        f"{_WHERE_DR}, 'Solution on superposition data': \"The only signature in these plots different from the "
        'original MDS solution is the tight cluster of the unimportant features at the center of circle"'
    ),
    "C2-ring": (
        f"{_WHERE_DR}, 'Solution on superposition data': \"all the points that are represented in the embedding, "
        "points that are not mapped to the origin in the MDS configuration plot, to be consistently mapped onto the "
        'perimeter of a circle"; and of why: "One possibility is that the circular geometry emerges only because of '
        'the presence of all the points at the origin"'
    ),
    "C3": (
        f'{_WHERE_DR}, the MDS without the origin points: "I say there is still no obvious artifact structure here. '
        'M=40 sparsity=.55 is a case of deviation"'
    ),
    "C6": (
        f'{_WHERE_DR}, the MDS without the origin points: "its got just 3 big outlier points messing everything up, '
        'this could be an instance of our original optimization procedure that generated the embedding failing"'
    ),
    "C4": (
        f'{_WHERE_DR}, UMAP: "there are substantial artifacts with respect to the lower embedding dimensions, but '
        'without a consistent pattern"'
    ),
    "C5": (
        f'{_WHERE_DR}, UMAP without the origin points: "As with MDS, we only see obvious artifacts in particular '
        'instances (20 dims: .05 sparsity)"'
    ),
    "D-ring": (
        f"{_WHERE_DR}, 'Solution on superposition data', the study's own conjecture: \"One possibility is that the "
        'circular geometry emerges only because of the presence of all the points at the origin"'
    ),
    "D-claim": (
        f'{_WHERE_DR}, after the MDS pictures of W: "it suggests superposition might not be as large a problem for '
        'latent space visualization as I originally thought"; closing paragraph: "I dont think there are obvious '
        'worries we should have with respect to visualizing latent spaces that are in superposition" (from pictures '
        "of feature directions; supviz tests it on data points, where superposition is)"
    ),
    "conclusion": (
        f'{_WHERE_DR}, closing paragraph: "I dont think there are obvious worries we should have with respect to '
        'visualizing latent spaces that are in superposition"; and earlier: "superposition might not be as large a '
        'problem for latent space visualization as I originally thought"'
    ),
}


def source_for(key: str) -> str:
    """The study's words for the finding keyed ``key`` (the longest :data:`QUOTES` prefix it starts with), or
    :data:`OWN` when the study said nothing on it."""
    best = max((k for k in QUOTES if key.startswith(k)), key=len, default="")
    return QUOTES[best] if best else OWN


def paper_of(source: str) -> str:
    """The author-and-year a cited ``source`` opens with (``"Elhage et al. (2022)"``), or the whole source."""
    import re

    m = re.match(PAPER, source)
    return m.group(1) if m else source


def claim_owner(source: str) -> str:
    """Whose claim a finding with this ``source`` tests: ``"own"`` (supviz's own question: the source says so, or
    there is none), ``"study"`` (the source quotes Hamblin (2022)) or ``"cited"`` (a claim of a paper the study builds
    on, labelled with that paper's name)."""
    if not source or OWN_MARK in source:
        return "own"
    return "study" if source.startswith(STUDY_MARK) else "cited"
