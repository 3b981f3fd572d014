// Loads the stamina.v1 protos shipped in proto/ and makes one stub per
// service, all on one channel.
import { join } from 'node:path';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

import type { ConceptServiceClient } from './generated/stamina/v1/ConceptService';
import type { ModelServiceClient } from './generated/stamina/v1/ModelService';
import type { SamplerServiceClient } from './generated/stamina/v1/SamplerService';
import type { TrainingServiceClient } from './generated/stamina/v1/TrainingService';

export interface Services {
  models: ModelServiceClient;
  concepts: ConceptServiceClient;
  training: TrainingServiceClient;
  sampler: SamplerServiceClient;
}

// The options the generated types were made with (package.json "build").
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [join(__dirname, '..', 'proto')],
};

let definitions: grpc.GrpcObject | undefined;

function packageObject(): grpc.GrpcObject {
  if (definitions === undefined) {
    const files = ['model', 'concept', 'training', 'sampler'].map(
      (service) => `stamina/v1/${service}_service.proto`,
    );
    definitions = grpc.loadPackageDefinition(protoLoader.loadSync(files, LOADER_OPTIONS));
  }
  return definitions;
}

type StubConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options: grpc.ChannelOptions,
) => grpc.Client;

export function loadServices(
  address: string,
  credentials: grpc.ChannelCredentials,
  options: grpc.ChannelOptions,
): Services {
  const v1 = (packageObject().stamina as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const models = new (v1.ModelService as StubConstructor)(address, credentials, options);
  // The other stubs share the first one's channel.
  const shared = { ...options, channelOverride: models.getChannel() };
  const make = (name: string) => new (v1[name] as StubConstructor)(address, credentials, shared);
  return {
    models: models as unknown as ModelServiceClient,
    concepts: make('ConceptService') as unknown as ConceptServiceClient,
    training: make('TrainingService') as unknown as TrainingServiceClient,
    sampler: make('SamplerService') as unknown as SamplerServiceClient,
  };
}
