"""Every refused attribute of one call is reported in one run (it was the first only, so a
user fixed them one run at a time); with the unknown names and keywords of the rest of the
statement (already reported together), one run says everything wrong with a line."""
import pytest

import archc
from archc.errors import SpecErrors


def test_every_refused_attribute_at_once():
    with pytest.raises(SpecErrors) as info:
        archc.loads('model M\ninput x: [N, 4, 8, 8]\n'
                    'output y = x -> conv2d(16, 3, stride="a", padding=true, groups=0) -> relu(foo=1)\n')
    said = [(e.code, e.message) for e in info.value.errors]
    assert [code for code, _ in said] == ["E-ATTR-TYPE", "E-ATTR-TYPE", "E-ATTR-RANGE", "E-CALL-UNKNOWN-KEYWORD"]
    assert ["'stride'" in said[0][1], "'padding'" in said[1][1], "'groups'" in said[2][1]] == [True] * 3
