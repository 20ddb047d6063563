"""The production BFF process speaks graphql-transport-ws on /graphql."""

from __future__ import annotations

from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import Mint
from tests.support.bff_process import BffServer


async def test_an_operation_over_the_websocket_of_a_real_bff(bff_server: BffServer, mint: Mint) -> None:
    transport = WebsocketsTransport(
        url=bff_server.url.replace("http://", "ws://") + "/graphql",
        init_payload={"Authorization": f"Bearer {mint()}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    async with Client(transport=transport) as session:
        answer = await session.execute(gql('{ homeScreen(appVersion: "6.0.0") { profile sections { id } } }'))
    assert answer["homeScreen"]["sections"]
