"""The seeds' other stack: FastAPI + PyJWT + bcrypt on SQLite, run under uvicorn with 2 workers.

Only the core routes the /profile comparison needs (register, login, profile), written the way FastAPI's
documentation writes them (Pydantic models, an HTTPBearer dependency, sync handlers in the thread pool). PEER_DB names
the SQLite file; PEER_SECRET the JWT key.

    uvicorn --workers 2 --host 127.0.0.1 --port PORT fastapi_app:app
"""

import os
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone

import bcrypt
import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

SECRET = os.environ.get("PEER_SECRET", "bench-secret-bench-secret-bench-secret")
DATABASE = os.environ.get("PEER_DB", "peer-fastapi.sqlite3")
app = FastAPI()
bearer = HTTPBearer()

with sqlite3.connect(DATABASE) as connection:
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT UNIQUE NOT NULL, password_hash TEXT NOT "
        "NULL, name TEXT, phone TEXT, email_verified INTEGER NOT NULL DEFAULT 1, roles TEXT NOT NULL DEFAULT 'user', "
        "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_login_at TEXT)")


def db():
    # A sync dependency with `yield` may be closed on another thread of the pool (FastAPI's SQL tutorial does this).
    connection = sqlite3.connect(DATABASE, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    try:
        yield connection
    finally:
        connection.close()


class Registration(BaseModel):
    email: str
    password: str
    name: str | None = None


class Credentials(BaseModel):
    email: str
    password: str


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_json(row):
    return {
        "id": row["id"], "email": row["email"], "name": row["name"], "phone": row["phone"],
        "email_verified": bool(row["email_verified"]), "roles": row["roles"].split(","),
        "created_at": row["created_at"], "updated_at": row["updated_at"], "last_login_at": row["last_login_at"],
    }


@app.post("/api/v1/auth/register", status_code=201)
def register(body: Registration, connection: sqlite3.Connection = Depends(db)):
    if len(body.password) < 8:
        raise HTTPException(400, "validation_error")
    password_hash = bcrypt.hashpw(body.password.encode(), bcrypt.gensalt(12)).decode()
    stamp = now()
    try:
        connection.execute(
            "INSERT INTO users (id, email, password_hash, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), body.email.lower(), password_hash, body.name, stamp, stamp))
        connection.commit()
    except sqlite3.IntegrityError:
        raise HTTPException(409, "user_exists")
    row = connection.execute("SELECT * FROM users WHERE email = ?", (body.email.lower(),)).fetchone()
    return {"user": user_json(row)}


@app.post("/api/v1/auth/login")
def login(body: Credentials, connection: sqlite3.Connection = Depends(db)):
    row = connection.execute("SELECT * FROM users WHERE email = ?", (body.email.lower(),)).fetchone()
    if row is None or not bcrypt.checkpw(body.password.encode(), row["password_hash"].encode()):
        raise HTTPException(401, "invalid_credentials")
    connection.execute("UPDATE users SET last_login_at = ? WHERE id = ?", (now(), row["id"]))
    connection.commit()
    issued = datetime.now(timezone.utc)
    token = jwt.encode({"sub": row["id"], "iat": issued, "exp": issued + timedelta(hours=1)}, SECRET, "HS256")
    return {"user": user_json(row), "access_token": token, "token_type": "Bearer"}


def current_user_id(credentials: HTTPAuthorizationCredentials = Depends(bearer)) -> str:
    try:
        return jwt.decode(credentials.credentials, SECRET, algorithms=["HS256"])["sub"]
    except jwt.PyJWTError:
        raise HTTPException(401, "invalid_token")


@app.get("/api/v1/auth/profile")
def profile(user_id: str = Depends(current_user_id), connection: sqlite3.Connection = Depends(db)):
    row = connection.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise HTTPException(404, "not_found")
    return {"user": user_json(row)}
