import { protocolSuite } from './protocol-suite.ts'

protocolSuite('Node WebCrypto')
