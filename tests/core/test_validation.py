"""core.validation: the shared argument checks."""

import pytest

from supviz.errors import SupvizError


def test_check_indices_one_rule_for_every_cell_selection():
    from supviz.core.validation import check_indices

    assert check_indices("indices", None, 3) == [0, 1, 2]
    assert check_indices("indices", [2, 0], 3) == [2, 0]
    for bad, match in (
        ([], r"`indices` must name at least one cell; got none\."),
        ([0, 2, 0], r"`indices` must name each cell once; got 0 more than once\."),
        ([3], r"`indices\[\]` must be an int in \[0, 2\]; got 3\."),
        ([True], r"`indices\[\]` must be an int"),
    ):
        with pytest.raises(SupvizError, match=match):
            check_indices("indices", bad, 3)
    with pytest.raises(SupvizError, match="no instances to index"):
        check_indices("instances", None, 0, what="instance")
