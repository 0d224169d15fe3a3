// A second route that starts chats: its streams resume through /api/streams/<id>, which Next
// bundles separately, so only a process-wide registry finds them there.
import { createStreamsRouteHandlers } from '@unbroken/server/next'
import { chat, streams } from '../../../chat'

export const dynamic = 'force-dynamic'

export const { POST } = createStreamsRouteHandlers(streams, chat)
