// File: server/training_service_impl.h
//
// stamina.v1.TrainingService over the job queue. TrainConcept validates and
// completes the settings, then queues a job (idempotent by request_id; the
// JobStore enforces the concept's state and minimum image count);
// WatchJob re-reads the job every ServiceContext::watch_poll_interval and
// streams it when it changes, until it ends. Thread-safe.
#ifndef STAMINA_SERVER_TRAINING_SERVICE_IMPL_H_
#define STAMINA_SERVER_TRAINING_SERVICE_IMPL_H_

#include "server/service_context.h"
#include "server/training_settings.h"
#include "stamina/v1/training_service.grpc.pb.h"

namespace stamina::server {

class TrainingServiceImpl final : public v1::TrainingService::Service {
 public:
  TrainingServiceImpl(const ServiceContext* context, TrainingDefaults defaults)
      : ctx_(context), defaults_(defaults) {}

  grpc::Status TrainConcept(grpc::ServerContext* call,
                            const v1::TrainConceptRequest* request,
                            v1::Job* response) override;
  grpc::Status GetJob(grpc::ServerContext* call, const v1::GetJobRequest* request,
                      v1::Job* response) override;
  grpc::Status ListJobs(grpc::ServerContext* call,
                        const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override;
  grpc::Status CancelJob(grpc::ServerContext* call,
                         const v1::CancelJobRequest* request,
                         v1::Job* response) override;
  grpc::Status RetryJob(grpc::ServerContext* call,
                        const v1::RetryJobRequest* request,
                        v1::Job* response) override;
  grpc::Status WatchJob(grpc::ServerContext* call,
                        const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::WatchJobResponse>* writer) override;
  grpc::Status GetWebhookSecret(grpc::ServerContext* call,
                                const v1::GetWebhookSecretRequest* request,
                                v1::WebhookSecret* response) override;
  grpc::Status RotateWebhookSecret(grpc::ServerContext* call,
                                   const v1::RotateWebhookSecretRequest* request,
                                   v1::RotateWebhookSecretResponse* response) override;

 private:
  const ServiceContext* const ctx_;
  const TrainingDefaults defaults_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_TRAINING_SERVICE_IMPL_H_
