"""PTB's HTTP backend on aiohttp, for every Bot API call the service makes.

PTB talks HTTP through a replaceable `BaseRequest`; its default is httpx. On this machine an
httpx call costs about three times the CPU of an aiohttp one, and a bot that answers each
update with one message spends most of its time there: a bare PTB echo bot handles ~750
updates/s on httpx and ~2,150/s on this backend (bench/throughput.py prints both). aiohttp is
already the service's web server, so this costs no new dependency.

Requests are sent as PTB's own backend sends them (form fields, files as multipart), and
failures map onto PTB's errors the same way: a timeout is TimedOut, any other transport
failure (refused, reset, dropped) a NetworkError; HTTP statuses are PTB's to interpret.
"""

import functools
import urllib.request
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """One connection pool of `pool_size` keep-alive connections; timeouts as PTB's defaults
    (connect 5 s, read 5 s, waiting for a free connection 1 s). Certificates are checked
    against the system's store (httpx used certifi's copy of it)."""

    def __init__(
        self,
        pool_size: int = 1,
        *,
        read_timeout: float | None = 5.0,
        connect_timeout: float = 5.0,
        pool_timeout: float = 1.0,
    ) -> None:
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        # Made here, not in __init__: an aiohttp session belongs to the running event loop.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            headers = {"User-Agent": self.USER_AGENT}
            self._session = aiohttp.ClientSession(connector=connector, headers=headers)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = self._timeout(read_timeout, connect_timeout, pool_timeout)
        body = _body(request_data) if request_data is not None else None
        proxy = _environment_proxy(*_scheme_and_host(url))
        try:
            async with self._session.request(
                method, url, data=body, timeout=timeout, proxy=proxy
            ) as resp:
                return resp.status, await resp.read()
        except TimeoutError as err:  # asyncio's and aiohttp's timeouts alike
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err

    def _timeout(
        self, read: ODVInput[float], connect: ODVInput[float], pool: ODVInput[float]
    ) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts for PTB's: a connection is "acquired" within the pool wait plus
        the connect time; reading waits `read` between bytes (None: a long poll's own). An
        upload has no deadline as a whole (httpx's write timeout is per write, and aiohttp
        has no such thing): a big file on a slow link must not be cut off."""
        read_s = self._read_timeout if isinstance(read, DefaultValue) else read
        connect_s = self._connect_timeout if isinstance(connect, DefaultValue) else connect
        pool_s = self._pool_timeout if isinstance(pool, DefaultValue) else pool
        acquire = None if connect_s is None or pool_s is None else connect_s + pool_s
        return aiohttp.ClientTimeout(
            total=None, connect=acquire, sock_connect=connect_s, sock_read=read_s
        )


def _scheme_and_host(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or ""


@functools.cache
def _environment_proxy(scheme: str, host: str) -> str | None:
    """The proxy HTTPS_PROXY (and the like, with NO_PROXY) names for this host, as httpx
    honoured them: a campus network may reach Telegram only through one. Looked up once:
    aiohttp's own lookup (trust_env) takes two trips to a worker thread on every request."""
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(scheme)


def _body(request_data: RequestData) -> aiohttp.FormData | dict[str, str]:
    """Form fields, as PTB's httpx backend sends them; multipart when files go along."""
    fields = request_data.json_parameters
    if not request_data.contains_files:
        return fields
    # Unquoted: a file named 支部报告.xlsx must arrive under that name, not percent-encoded.
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
