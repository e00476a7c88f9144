"""`/api/v1/auth/*` and the internal token check the BFF calls once per SSE connection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db import Session
from ..deps import AppSettings, InternalOnly
from ..models import User
from . import service, tokens
from .rbac import Public, Viewer, _bearer, authenticate
from .schemas import (
    AcceptInviteIn,
    LoginIn,
    MeOut,
    RefreshIn,
    ResetConfirmIn,
    ResetRequestIn,
    TokenOut,
    UserOut,
    VerifyOut,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
internal_router = APIRouter(prefix="/internal/auth", tags=["internal"], dependencies=[InternalOnly])


def _token_out(pair: service.TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token,
        expires_at=pair.expires_at,
        expires_in=max(0, int((pair.expires_at - datetime.now(UTC)).total_seconds())),
        refresh_token=pair.refresh_token,
    )


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.post("/login", dependencies=[Public])
async def login(body: LoginIn, request: Request, settings: AppSettings) -> TokenOut:
    """Sign in with e-mail and password. Answers an access token (short-lived) and a refresh token.

    Failed attempts are limited per account and per IP address (429 with Retry-After when locked).
    """
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        pair = await service.login(
            session,
            settings,
            str(body.email),
            body.password,
            request.client.host if request.client else None,
            request.headers.get("user-agent"),
        )
    return _token_out(pair)


@router.post("/refresh", dependencies=[Public])
async def refresh(body: RefreshIn, session: Session, settings: AppSettings) -> TokenOut:
    """Exchange a refresh token for a new access token; the refresh token is rotated."""
    return _token_out(await service.refresh(session, settings, body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: Viewer, session: Session) -> Response:
    """Revoke this session: its access and refresh tokens stop working at once."""
    if principal.session_id is not None:
        await service.revoke_session(session, principal.session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
async def me(principal: Viewer, session: Session) -> MeOut:
    """Who the token belongs to."""
    user = await session.get(User, principal.user_id) if principal.user_id else None
    return MeOut(
        kind=principal.kind,
        role=principal.role,
        tenant_id=principal.tenant_id,
        user=user_out(user) if user else None,
    )


@router.post("/password-reset", status_code=status.HTTP_202_ACCEPTED, dependencies=[Public])
async def password_reset(
    body: ResetRequestIn, request: Request, session: Session, settings: AppSettings
) -> dict[str, str]:
    """E-mail a password-reset link (valid 1 hour). Answers the same, in the same time, whether the
    account exists (the mail is queued); limited per e-mail and per address (429)."""
    ip = request.client.host if request.client else None
    await service.request_password_reset(session, settings, str(body.email), ip)
    return {"status": "accepted"}


@router.post("/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Public])
async def password_reset_confirm(body: ResetConfirmIn, session: Session) -> Response:
    """Set a new password with the link's token; every existing session is signed out."""
    await service.confirm_password_reset(session, body.token, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/accept-invite", dependencies=[Public])
async def accept_invite(
    body: AcceptInviteIn, request: Request, session: Session, settings: AppSettings
) -> TokenOut:
    """Accept an invitation: set the password and get signed in."""
    user = await service.accept_invite(session, body.token, body.password, body.name)
    pair = await service.create_session(
        session,
        settings,
        user,
        request.client.host if request.client else None,
        request.headers.get("user-agent"),
    )
    return _token_out(pair)


@internal_router.get("/verify")
async def verify(
    request: Request,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> VerifyOut:
    """For the BFF: is this staff token valid now (signature, expiry, revocation), and whose is it."""
    token = credentials.credentials if credentials else None
    principal = await authenticate(request, session, token)
    claims = tokens.decode_access_token(request.app.state.settings, token) if token else None
    return VerifyOut(
        kind=principal.kind,
        role=principal.role,
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        expires_at=claims.expires_at if claims else None,
    )
