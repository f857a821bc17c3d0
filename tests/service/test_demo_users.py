"""The demo users' passwords are public: the API refuses to listen beyond loopback while anyone has one."""

import os
import subprocess
import sys
from pathlib import Path

from service.directory import Directory
from service.read_model import ReadModel, create_engine
from tests.conftest import TEST_USERS

CASEWORK = Path(sys.executable).parent / "casework"


async def test_the_api_refuses_to_listen_beyond_loopback_while_a_demo_password_works(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/demo.db"
    read_model = ReadModel(create_engine(url))
    await read_model.upgrade()
    directory = Directory(read_model)
    await directory.add_demo_users()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")}
    env.update(CASEWORK_DATABASE_URL=url, CASEWORK_USERS=TEST_USERS, CASEWORK_HTTP_HOST="0.0.0.0", CASEWORK_TEMPORAL_ADDRESS="127.0.0.1:1")
    refused = subprocess.run([str(CASEWORK), "api"], env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert "the public demo passwords of ann, sam, ada still work" in refused.stderr
    await directory.set_password("ann", "a private password")
    await directory.disable("sam")
    refused = subprocess.run([str(CASEWORK), "api"], env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "casework: the public demo passwords of ada still work" in refused.stderr
    await read_model.close()
