"""Configuration: original variable names, *_FILE secrets, and a start-up error naming what is missing."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cli(*args, env):
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run([sys.executable, "-m", "tools.admin", *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_missing_required_variable_is_named():
    done = _cli("migrate", env={})
    assert done.returncode == 2
    assert "DB_HOST" in done.stderr and "DB_HOST_FILE" in done.stderr


def test_file_variants_supply_secrets(tmp_path):
    password_file = tmp_path / "admin_password"
    password_file.write_text("Fr0m#SecretFile\n")
    env = {k: os.environ[k] for k in ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASS", "DB_NAME", "REDIS_HOST",
                                      "REDIS_PORT", "REDIS_DB")}
    env["DB_NAME"] = env["DB_NAME"] + "_cfg"
    env.update({"ADMIN_USERNAME": "fileadmin", "ADMIN_PASSWORD_FILE": str(password_file), "BCRYPT_COST": "4"})
    done = _cli("migrate", "--create-database", env=env)
    assert done.returncode == 0, done.stderr
    assert "super admin 'fileadmin' created" in done.stdout
    again = _cli("migrate", env=env)
    assert "already present" in again.stdout and "0 applied" in again.stdout
    import pymysql

    conn = pymysql.connect(host=env["DB_HOST"], port=int(env["DB_PORT"]), user=env["DB_USER"], password=env["DB_PASS"])
    with conn.cursor() as cur:
        cur.execute(f"SELECT hashed_password FROM `{env['DB_NAME']}`.staffs WHERE username = 'fileadmin'")
        hashed = cur.fetchone()[0]
        cur.execute(f"DROP DATABASE `{env['DB_NAME']}`")
    conn.close()
    import bcrypt

    assert bcrypt.checkpw(b"Fr0m#SecretFile", hashed.encode())


def test_unreadable_file_variant_is_a_clear_error():
    done = _cli("migrate", env={"DB_HOST_FILE": "/nonexistent/secret"})
    assert done.returncode == 2 and "DB_HOST_FILE" in done.stderr


def test_admin_cli_creates_staff_and_loads_demo_data(tmp_path):
    """`create-staff` (password from STAFF_PASSWORD, roles by name) and `demo` through the CLI as a process."""
    import pymysql

    env = {k: os.environ[k] for k in ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASS", "DB_NAME", "REDIS_HOST",
                                      "REDIS_PORT", "REDIS_DB")}
    env["DB_NAME"] = env["DB_NAME"] + "_cli"
    env.update({"ADMIN_PASSWORD": "Admin#Passw0rd", "BCRYPT_COST": "4", "STAFF_PASSWORD": "Clerk#Pass123"})
    assert _cli("migrate", "--create-database", env=env).returncode == 0
    done = _cli("create-staff", "clerk", "--name", "Clerk", "--roles", "inv_user,fin_user", env=env)
    assert done.returncode == 0 and "created with id" in done.stdout, done.stderr
    assert _cli("create-staff", "bad", "--roles", "root", env=env).returncode == 2
    weak = _cli("create-staff", "weak", env={**env, "STAFF_PASSWORD": "weak"})
    assert weak.returncode != 0 and "special character" in (weak.stdout + weak.stderr)
    demo = _cli("demo", env=env)
    assert demo.returncode == 0 and "shipping areas" in demo.stdout and "freight rates" in demo.stdout
    again = _cli("demo", env=env)  # idempotent
    assert again.returncode == 0 and "0 new products" in again.stdout
    conn = pymysql.connect(host=env["DB_HOST"], port=int(env["DB_PORT"]), user=env["DB_USER"], password=env["DB_PASS"])
    with conn.cursor() as cur:
        cur.execute(f"SELECT inv_user, fin_user, sys_admin FROM `{env['DB_NAME']}`.staffs WHERE username = 'clerk'")
        assert cur.fetchone() == (1, 1, 0)
        cur.execute(f"SELECT COUNT(*) FROM `{env['DB_NAME']}`.products")
        assert cur.fetchone()[0] == 12
        cur.execute(f"DROP DATABASE `{env['DB_NAME']}`")
    conn.close()
