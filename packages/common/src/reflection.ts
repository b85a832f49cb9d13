// gRPC server reflection, v1 and v1alpha, so `grpcurl -plaintext host:port list` and `buf curl`
// work without proto files. Descriptors come from the generated code (protobuf-es keeps each
// file's FileDescriptorProto), so reflection can never drift from what the server serves.
import { toBinary, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { reflectionV1, reflectionV1alpha } from "@tradai/proto";

type ReflectionService = typeof reflectionV1.ServerReflection;

interface ReflectionIndex {
  services: string[];
  files: Map<string, DescFile>;
  symbols: Map<string, DescFile>;
}

function indexMessages(messages: readonly DescMessage[], file: DescFile, symbols: Map<string, DescFile>) {
  for (const message of messages) {
    symbols.set(message.typeName, file);
    for (const nested of message.nestedEnums) symbols.set(nested.typeName, file);
    indexMessages(message.nestedMessages, file, symbols);
  }
}

function buildIndex(services: readonly DescService[]): ReflectionIndex {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const dependency of file.dependencies) visit(dependency);
    indexMessages(file.messages, file, symbols);
    for (const enumeration of file.enums) symbols.set(enumeration.typeName, file);
    for (const service of file.services) {
      symbols.set(service.typeName, file);
      for (const method of service.methods) symbols.set(`${service.typeName}.${method.name}`, file);
    }
  };
  for (const service of services) visit(service.file);
  return { services: services.map((service) => service.typeName).sort(), files, symbols };
}

/** The file and everything it imports, dependencies first (what grpcurl expects). */
function withDependencies(file: DescFile): Uint8Array[] {
  const ordered: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (current: DescFile) => {
    if (seen.has(current.proto.name)) return;
    seen.add(current.proto.name);
    for (const dependency of current.dependencies) visit(dependency);
    ordered.push(current);
  };
  visit(file);
  return ordered.reverse().map((current) => toBinary(FileDescriptorProtoSchema, current.proto));
}

type Request = reflectionV1.ServerReflectionRequest;
type ResponseInit = Omit<reflectionV1.ServerReflectionResponse, "$typeName" | "$unknown">;

function answer(index: ReflectionIndex, request: Request): ResponseInit {
  const base = { validHost: request.host, originalRequest: request };
  const notFound = (what: string): ResponseInit => ({
    ...base,
    messageResponse: {
      case: "errorResponse",
      value: {
        $typeName: "grpc.reflection.v1.ErrorResponse",
        errorCode: 5,
        errorMessage: `${what} not found`,
      },
    },
  });
  const files = (file: DescFile): ResponseInit => ({
    ...base,
    messageResponse: {
      case: "fileDescriptorResponse",
      value: {
        $typeName: "grpc.reflection.v1.FileDescriptorResponse",
        fileDescriptorProto: withDependencies(file),
      },
    },
  });
  const message = request.messageRequest;
  switch (message.case) {
    case "listServices":
      return {
        ...base,
        messageResponse: {
          case: "listServicesResponse",
          value: {
            $typeName: "grpc.reflection.v1.ListServiceResponse",
            service: index.services.map((name) => ({
              $typeName: "grpc.reflection.v1.ServiceResponse",
              name,
            })),
          },
        },
      };
    case "fileByFilename": {
      const file = index.files.get(message.value);
      return file ? files(file) : notFound(`file ${message.value}`);
    }
    case "fileContainingSymbol": {
      const file = index.symbols.get(message.value.replace(/^\./, ""));
      return file ? files(file) : notFound(`symbol ${message.value}`);
    }
    case "allExtensionNumbersOfType":
      return {
        ...base,
        messageResponse: {
          case: "allExtensionNumbersResponse",
          value: {
            $typeName: "grpc.reflection.v1.ExtensionNumberResponse",
            baseTypeName: message.value,
            extensionNumber: [],
          },
        },
      };
    case "fileContainingExtension":
      return notFound(`extension ${message.value.containingType}(${message.value.extensionNumber})`);
    default:
      return {
        ...base,
        messageResponse: {
          case: "errorResponse",
          value: {
            $typeName: "grpc.reflection.v1.ErrorResponse",
            errorCode: 3,
            errorMessage: "empty reflection request",
          },
        },
      };
  }
}

/**
 * Reflection handlers for both protocol versions. `services` are the application services; the
 * reflection and health services are listed too.
 */
export function createReflectionHandlers(services: readonly DescService[]): {
  v1: ServiceImpl<ReflectionService>;
  v1alpha: ServiceImpl<typeof reflectionV1alpha.ServerReflection>;
} {
  const all = [...services, reflectionV1.ServerReflection, reflectionV1alpha.ServerReflection];
  const index = buildIndex(all);
  return {
    v1: {
      async *serverReflectionInfo(requests) {
        for await (const request of requests) yield answer(index, request);
      },
    },
    v1alpha: {
      async *serverReflectionInfo(requests) {
        // v1alpha messages have the same fields; only the type names differ.
        for await (const request of requests) {
          const response = answer(index, request as unknown as Request);
          yield response as unknown as Omit<
            reflectionV1alpha.ServerReflectionResponse,
            "$typeName" | "$unknown"
          >;
        }
      },
    },
  };
}
