import pytest

from tests import builders


@pytest.fixture(scope="session")
def bomb_dir(tmp_path_factory):
    """The 300 MB zip bombs take a second or two to write: once per session."""
    d = tmp_path_factory.mktemp("bombs")
    builders.zip_bomb(d, "bomb.docx")
    builders.zip_bomb(d, "bomb.xlsx")
    builders.gzip_bomb(d)
    return d
