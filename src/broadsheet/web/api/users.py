from __future__ import annotations

from fastapi import APIRouter, Response, status

from broadsheet.domain.models import RateLimit
from broadsheet.services import users
from broadsheet.web.api import schemas
from broadsheet.web.api.responses import errors, links_from_user
from broadsheet.web.deps import App, Uow, Viewer, Writer, rate_limited
from broadsheet.web.json_body import JsonRoute

router = APIRouter(tags=["users"], route_class=JsonRoute)


@router.post(
    "/users/login",
    operation_id="Login",
    responses={200: {"links": links_from_user()}, **errors(401, 422, rate_limited=True)},
    dependencies=[rate_limited(RateLimit.LOGIN)],
)
async def login(request: schemas.LoginUserRequest, app: App, uow: Uow) -> schemas.UserResponse:
    signed_in = await users.login(
        uow,
        hasher=app.hasher,
        tokens=app.tokens,
        limiter=app.limiter,
        email=request.user.email,
        password=request.user.password,
    )
    return schemas.UserResponse(user=schemas.User.of(signed_in.user, signed_in.token))


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    operation_id="CreateUser",
    responses={201: {"links": links_from_user()}, **errors(409, 422, rate_limited=True)},
    dependencies=[rate_limited(RateLimit.REGISTRATION)],
)
async def register(request: schemas.NewUserRequest, app: App, uow: Uow) -> schemas.UserResponse:
    signed_in = await users.register(
        uow,
        hasher=app.hasher,
        tokens=app.tokens,
        username=request.user.username,
        email=request.user.email,
        password=request.user.password,
    )
    return schemas.UserResponse(user=schemas.User.of(signed_in.user, signed_in.token))


@router.post(
    "/users/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="Logout",
    responses=errors(401),
)
async def logout(viewer: Viewer, app: App) -> None:
    """Revoke the token sent; the user's other tokens keep working. A second logout with the
    same token is a 401, like any request with a revoked token. Not rate-limited: signing
    out must work even for someone who used up their writes."""
    await users.logout(revocations=app.revocations, claims=viewer.claims)


@router.get("/user", operation_id="GetCurrentUser", responses=errors(401))
async def current_user(viewer: Viewer, uow: Uow) -> schemas.UserResponse:
    user = await users.current(uow, user_id=viewer.user_id)
    return schemas.UserResponse(user=schemas.User.of(user, viewer.token))


@router.put(
    "/user",
    operation_id="UpdateCurrentUser",
    responses={200: {"links": links_from_user()}, **errors(401, 409, 422, rate_limited=True)},
)
async def update_user(
    request: schemas.UpdateUserRequest, viewer: Writer, app: App, uow: Uow
) -> schemas.UserResponse:
    changes = request.user
    signed_in = await users.update(
        uow,
        hasher=app.hasher,
        tokens=app.tokens,
        revocations=app.revocations,
        claims=viewer.claims,
        username=changes.change("username", changes.username),
        email=changes.change("email", changes.email),
        password=changes.change("password", changes.password),
        bio=changes.change("bio", changes.bio),
        image=changes.change("image", changes.image),
    )
    return schemas.UserResponse(user=schemas.User.of(signed_in.user, signed_in.token))
