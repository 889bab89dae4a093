import { protocolSuite } from './protocol-suite.ts'

protocolSuite('Chromium WebCrypto')
