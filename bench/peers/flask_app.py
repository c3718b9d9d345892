"""The seeds' stack: Flask + flask-jwt-extended + bcrypt on SQLite, run under gunicorn with 2 workers.

Only the core routes the /profile comparison needs (register, login, profile), written the way the Flask
documentation and flask-jwt-extended's examples write them. PEER_DB names the SQLite file; PEER_SECRET the JWT key.

    gunicorn -w 2 -b 127.0.0.1:PORT flask_app:app
"""

import os
import sqlite3
import uuid
from datetime import datetime, timezone

import bcrypt
from flask import Flask, g, jsonify, request
from flask_jwt_extended import JWTManager, create_access_token, get_jwt_identity, jwt_required

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = os.environ.get("PEER_SECRET", "bench-secret-bench-secret-bench-secret")
jwt = JWTManager(app)
DATABASE = os.environ.get("PEER_DB", "peer-flask.sqlite3")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, email TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL, name TEXT, phone TEXT,
    email_verified INTEGER NOT NULL DEFAULT 1, roles TEXT NOT NULL DEFAULT 'user',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_login_at TEXT
)
"""


def db():
    if "db" not in g:
        g.db = sqlite3.connect(DATABASE)
        g.db.row_factory = sqlite3.Row
    return g.db


@app.teardown_appcontext
def close_db(_):
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


with sqlite3.connect(DATABASE) as connection:
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(SCHEMA)


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_json(row):
    return {
        "id": row["id"], "email": row["email"], "name": row["name"], "phone": row["phone"],
        "email_verified": bool(row["email_verified"]), "roles": row["roles"].split(","),
        "created_at": row["created_at"], "updated_at": row["updated_at"], "last_login_at": row["last_login_at"],
    }


@app.post("/api/v1/auth/register")
def register():
    data = request.get_json(silent=True) or {}
    email, password = data.get("email"), data.get("password")
    if not email or not password or len(password) < 8:
        return jsonify(error="validation_error"), 400
    password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt(12)).decode()
    stamp = now()
    try:
        db().execute(
            "INSERT INTO users (id, email, password_hash, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), email.lower(), password_hash, data.get("name"), stamp, stamp))
        db().commit()
    except sqlite3.IntegrityError:
        return jsonify(error="user_exists"), 409
    row = db().execute("SELECT * FROM users WHERE email = ?", (email.lower(),)).fetchone()
    return jsonify(user=user_json(row)), 201


@app.post("/api/v1/auth/login")
def login():
    data = request.get_json(silent=True) or {}
    row = db().execute("SELECT * FROM users WHERE email = ?", ((data.get("email") or "").lower(),)).fetchone()
    if row is None or not bcrypt.checkpw((data.get("password") or "").encode(), row["password_hash"].encode()):
        return jsonify(error="invalid_credentials"), 401
    db().execute("UPDATE users SET last_login_at = ? WHERE id = ?", (now(), row["id"]))
    db().commit()
    return jsonify(user=user_json(row), access_token=create_access_token(identity=row["id"]), token_type="Bearer")


@app.get("/api/v1/auth/profile")
@jwt_required()
def profile():
    row = db().execute("SELECT * FROM users WHERE id = ?", (get_jwt_identity(),)).fetchone()
    if row is None:
        return jsonify(error="not_found"), 404
    return jsonify(user=user_json(row))
