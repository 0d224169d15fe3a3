// POST /api/streams starts a chat; GET and DELETE /api/streams/<id> resume and cancel; OPTIONS
// answers the CORS preflight.
import { createStreamsRouteHandlers } from '@unbroken/server/next'
import { chat, streams } from '../../../../chat'

export const dynamic = 'force-dynamic'

export const { GET, POST, DELETE, OPTIONS } = createStreamsRouteHandlers(streams, chat)
